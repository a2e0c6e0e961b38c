// Boots GraphiQL against this server's /graphql endpoint. It lives in its
// own file rather than inline so the page's CSP can keep script-src 'self'.
(function () {
  'use strict';

  var endpoint = '/graphql';
  // Same host and port as the page; only the scheme changes for websockets.
  var wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

  // A token left by the mall front end (or pasted by a developer) is sent on
  // every request; the GraphiQL headers editor can still add or override it.
  var token = null;
  try {
    token = window.localStorage.getItem('mall.token');
  } catch (e) {
    // Storage can be disabled by browser policy; run anonymously then.
  }
  var auth = token ? { Authorization: 'Bearer ' + token } : {};

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: wsScheme + '//' + window.location.host + endpoint,
    headers: auth,
    // graphql-ws has no HTTP headers; the server reads them from connection_init.
    wsConnectionParams: auth,
  });

  var defaultQuery = [
    '# 工会消费扶贫商城 GraphQL 接口',
    '# 登录后把令牌存入 localStorage 的 mall.token，或在下方 Headers 中填写',
    '# {"Authorization": "Bearer <token>"}',
    '{',
    '  products(first: 5) {',
    '    edges {',
    '      node {',
    '        name',
    '        salePrice',
    '        county {',
    '          name',
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');

  var e = React.createElement;
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    e(
      GraphiQL,
      { fetcher: fetcher, defaultQuery: defaultQuery },
      // Replaces the default logo, which links out to github.com.
      e(GraphiQL.Logo, null, '工会消费扶贫商城')
    )
  );
})();
