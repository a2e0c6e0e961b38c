// Broadcast overlays (internal/web/overlay.go): fills in the page from this
// server alone. It asks /graphql once per connection for the times and names
// (they change rarely), and takes the counts from a subscription over
// graphql-transport-ws, spoken by hand so nothing else has to be loaded.
//
// When the socket closes or goes quiet (a server restart, a network cut) it
// shows a small "连接中…", keeps the last numbers, and reconnects with
// exponential backoff: 0.5 s doubling up to 10 s, each wait drawn between
// half and all of that ("equal jitter") so that a room full of overlays does
// not come back in step. A connection that delivered data resets the backoff.
//
// Plain ES5 plus fetch and WebSocket: broadcast software embeds browsers
// that can be years old.
(function () {
  'use strict';

  var root = document.getElementById('overlay');
  if (!root) {
    return;
  }
  var kind = root.getAttribute('data-kind');
  var id = root.getAttribute('data-id') || '';

  // A custom ?size= scale arrives as data-scale; the CSSOM is allowed where an
  // inline style attribute would break the CSP.
  var scale = parseFloat(root.getAttribute('data-scale'));
  if (isFinite(scale) && scale > 0) {
    document.documentElement.style.setProperty('--scale', String(scale));
  }

  var ENDPOINT = '/graphql';
  var PROTOCOL = 'graphql-transport-ws';
  var BACKOFF_MIN = 500;
  var BACKOFF_MAX = 10000;
  var CONNECT_TIMEOUT = 10000; // from opening until connection_ack
  var PING_EVERY = 15000; // our pings; the server answers with pong
  var SILENCE_LIMIT = 40000; // nothing heard for this long: the socket is dead
  var META_RETRY = 3000;

  var OPS = {
    'flash-sale': {
      meta: 'query OverlayFlashSale($id: ID!) { flashSale(id: $id) { startsAt endsAt price product { name } } }',
      sub: 'subscription OverlayFlashSaleStock($id: ID!) { flashSaleStock(flashSaleID: $id) ' +
        '{ flashSaleID quantity sold remaining status updatedAt } }',
      notFound: '未找到该秒杀活动'
    },
    live: {
      meta: 'query OverlayLiveEvent($id: ID!) { node(id: $id) { ... on LiveEvent ' +
        '{ title startsAt endsAt flashSales { id price product { name } } } } }',
      sub: 'subscription OverlayLiveEventCounters($id: ID!) { liveEventCounters(liveEventID: $id) ' +
        '{ liveEventID orders unitsSold gmv flashSales { flashSaleID quantity sold remaining status } updatedAt } }',
      // The purchase ticker, a second subscription on the same socket.
      feed: 'subscription OverlayLiveEventFeed($id: ID!) { liveEventFeed(liveEventID: $id) ' +
        '{ purchases { buyer productName quantity at } } }',
      notFound: '未找到该直播间'
    }
  };
  var ops = OPS[kind];
  if (!ops) {
    return;
  }

  // Refusals that another try cannot fix; anything else is retried.
  var FINAL_CODES = {
    NOT_FOUND: true,
    BAD_USER_INPUT: true,
    GRAPHQL_PARSE_FAILED: true,
    GRAPHQL_VALIDATION_FAILED: true
  };

  var STATUS_TEXT = {
    SCHEDULED: '即将开始',
    ACTIVE: '秒杀中',
    SOLD_OUT: '已抢光',
    ENDED: '已结束'
  };
  var EVENT_STATUS_TEXT = {
    SCHEDULED: '未开始',
    ACTIVE: '直播中',
    ENDED: '已结束'
  };

  function $(elementID) {
    return document.getElementById(elementID);
  }

  var el = {
    conn: $('conn'),
    title: $('title'),
    price: $('price'),
    badge: $('badge'),
    remaining: $('remaining'),
    sold: $('sold'),
    quantity: $('quantity'),
    bar: $('bar'),
    fill: $('fill'),
    orders: $('orders'),
    gmv: $('gmv'),
    units: $('units'),
    sales: $('sales'),
    countdown: $('countdown'),
    countdownLabel: $('countdown-label'),
    countdownValue: $('countdown-value'),
    error: $('error')
  };

  // ---------------------------------------------------------------- state

  var meta = null; // {title, startsAt, endsAt (ms), price, names: {saleID: name}}
  var last = null; // the latest subscription payload
  var clockOffset = 0; // server clock minus ours, in ms
  var finished = false; // a final error, or a completed subscription of an ended sale

  // ---------------------------------------------------------------- formatting

  function setText(node, text) {
    if (node && node.textContent !== text) {
      node.textContent = text;
    }
  }

  function show(node, visible) {
    if (node && node.hidden === visible) {
      node.hidden = !visible;
    }
  }

  function groupDigits(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function formatInt(n) {
    return typeof n === 'number' && isFinite(n) ? groupDigits(String(Math.round(n))) : '–';
  }

  // Money is a decimal string of yuan ("1234.50"); it is never turned into a
  // float.
  function formatMoney(s) {
    if (typeof s !== 'string' || !/^\d+(\.\d+)?$/.test(s)) {
      return '–';
    }
    var parts = s.split('.');
    return '¥' + groupDigits(parts[0]) + (parts[1] ? '.' + parts[1] : '');
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // 1天 02:03:04, or 02:03:04 under a day. Rounded up, so 00:00:00 shows
  // only once the moment has come.
  function formatDuration(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var d = Math.floor(s / 86400);
    s -= d * 86400;
    var h = Math.floor(s / 3600);
    s -= h * 3600;
    var m = Math.floor(s / 60);
    s -= m * 60;
    return (d > 0 ? d + '天 ' : '') + pad(h) + ':' + pad(m) + ':' + pad(s);
  }

  function parseTime(s) {
    var t = typeof s === 'string' ? Date.parse(s) : NaN;
    return isFinite(t) ? t : null;
  }

  function now() {
    return Date.now() + clockOffset;
  }

  function percent(sold, quantity) {
    if (!(quantity > 0)) {
      return 0;
    }
    return Math.max(0, Math.min(100, (sold * 100) / quantity));
  }

  function setBar(bar, fill, sold, quantity) {
    var p = percent(sold, quantity);
    var width = p.toFixed(2) + '%';
    if (fill && fill.style.width !== width) {
      fill.style.width = width;
    }
    if (bar) {
      bar.setAttribute('aria-valuenow', String(Math.round(p)));
    }
  }

  // ---------------------------------------------------------------- rendering

  // The status the server last sent can lag the clock: no message comes when
  // a sale starts or ends by itself, so the times decide in between.
  function saleStatus() {
    if (!last) {
      return null;
    }
    var status = last.status;
    var t = now();
    if (meta && status !== 'ENDED') {
      if (meta.endsAt !== null && t >= meta.endsAt) {
        return 'ENDED';
      }
      if (status === 'SCHEDULED' && meta.startsAt !== null && t >= meta.startsAt) {
        return last.remaining > 0 ? 'ACTIVE' : 'SOLD_OUT';
      }
    }
    return status;
  }

  function eventStatus() {
    if (!meta || meta.startsAt === null || meta.endsAt === null) {
      return null;
    }
    var t = now();
    if (t < meta.startsAt) {
      return 'SCHEDULED';
    }
    return t < meta.endsAt ? 'ACTIVE' : 'ENDED';
  }

  function renderCountdown(status) {
    var target = null;
    var label = '';
    if (meta && status === 'SCHEDULED') {
      target = meta.startsAt;
      label = '距开始';
    } else if (meta && status === 'ACTIVE') {
      target = meta.endsAt;
      label = '距结束';
    }
    if (target === null) {
      show(el.countdown, false);
      return;
    }
    setText(el.countdownLabel, label);
    setText(el.countdownValue, formatDuration(target - now()));
    show(el.countdown, true);
  }

  function renderStatus() {
    var status = kind === 'live' ? eventStatus() : saleStatus();
    var texts = kind === 'live' ? EVENT_STATUS_TEXT : STATUS_TEXT;
    if (status) {
      root.setAttribute('data-status', status);
      setText(el.badge, texts[status] || '');
    }
    show(el.badge, !!status);
    renderCountdown(status);
  }

  function renderMeta() {
    if (!meta) {
      return;
    }
    setText(el.title, meta.title || '');
    if (el.price) {
      setText(el.price, meta.price ? '秒杀价 ' + formatMoney(meta.price) : '');
      show(el.price, !!meta.price);
    }
  }

  function renderSale() {
    setText(el.remaining, formatInt(last.remaining));
    setText(el.sold, formatInt(last.sold));
    setText(el.quantity, formatInt(last.quantity));
    setBar(el.bar, el.fill, last.sold, last.quantity);
  }

  var saleRows = {}; // flashSaleID -> the row's elements

  function saleRow(saleID) {
    var row = saleRows[saleID];
    if (row) {
      return row;
    }
    row = {
      li: document.createElement('li'),
      name: document.createElement('span'),
      count: document.createElement('span'),
      badge: document.createElement('span'),
      bar: document.createElement('div'),
      fill: document.createElement('div')
    };
    row.li.className = 'sale';
    row.li.setAttribute('data-sale-id', saleID);
    row.name.className = 'sale-name';
    row.count.className = 'sale-count';
    row.badge.className = 'badge';
    row.bar.className = 'bar';
    row.bar.setAttribute('role', 'progressbar');
    row.bar.setAttribute('aria-valuemin', '0');
    row.bar.setAttribute('aria-valuemax', '100');
    row.fill.className = 'fill';
    row.bar.appendChild(row.fill);
    row.li.appendChild(row.name);
    row.li.appendChild(row.count);
    row.li.appendChild(row.badge);
    row.li.appendChild(row.bar);
    saleRows[saleID] = row;
    return row;
  }

  function renderLive() {
    setText(el.orders, formatInt(last.orders));
    setText(el.gmv, formatMoney(last.gmv));
    setText(el.units, formatInt(last.unitsSold));
    var sales = last.flashSales || [];
    var seen = {};
    var unknown = false;
    for (var i = 0; i < sales.length; i++) {
      var s = sales[i];
      var row = saleRow(s.flashSaleID);
      seen[s.flashSaleID] = true;
      var name = meta && meta.names[s.flashSaleID];
      if (meta && !Object.prototype.hasOwnProperty.call(meta.names, s.flashSaleID)) {
        unknown = true;
      }
      // textContent only: names come from the catalogue, never as HTML.
      setText(row.name, name || '秒杀商品');
      setText(row.count, '剩余 ' + formatInt(s.remaining) + ' / ' + formatInt(s.quantity));
      setText(row.badge, STATUS_TEXT[s.status] || '');
      show(row.badge, s.status !== 'ACTIVE');
      setBar(row.bar, row.fill, s.sold, s.quantity);
      if (el.sales.children[i] !== row.li) {
        el.sales.insertBefore(row.li, el.sales.children[i] || null);
      }
    }
    for (var saleID in saleRows) {
      if (Object.prototype.hasOwnProperty.call(saleRows, saleID) && !seen[saleID]) {
        el.sales.removeChild(saleRows[saleID].li);
        delete saleRows[saleID];
      }
    }
    if (unknown) {
      // A sale added to the event after the names were read.
      refreshMetaSoon();
    }
  }

  function render() {
    renderMeta();
    if (last) {
      if (kind === 'live') {
        renderLive();
      } else {
        renderSale();
      }
    }
    renderStatus();
  }

  function setConn(state) {
    root.setAttribute('data-conn', state);
  }

  function showError(message) {
    root.setAttribute('data-state', 'error');
    setText(el.error, message);
    show(el.error, true);
  }

  // ---------------------------------------------------------------- the times and names, over HTTP

  var metaGeneration = 0; // bumps per connection: answers for an older one are dropped
  var metaTimer = null;
  var metaAskedAt = 0;

  function readMeta(data) {
    if (kind === 'live') {
      var ev = data && data.node;
      if (!ev || !ev.startsAt) {
        return null;
      }
      var names = {};
      var sales = ev.flashSales || [];
      for (var i = 0; i < sales.length; i++) {
        if (sales[i] && sales[i].id) {
          names[sales[i].id] = sales[i].product && sales[i].product.name;
        }
      }
      return { title: ev.title, startsAt: parseTime(ev.startsAt), endsAt: parseTime(ev.endsAt), names: names };
    }
    var sale = data && data.flashSale;
    if (!sale) {
      return null;
    }
    return {
      title: sale.product && sale.product.name,
      price: sale.price,
      startsAt: parseTime(sale.startsAt),
      endsAt: parseTime(sale.endsAt),
      names: {}
    };
  }

  function loadMeta() {
    clearTimeout(metaTimer);
    metaTimer = null;
    metaAskedAt = Date.now();
    var generation = ++metaGeneration;
    var retry = function () {
      if (generation === metaGeneration && ws && !finished) {
        metaTimer = setTimeout(loadMeta, META_RETRY);
      }
    };
    fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query: ops.meta, variables: { id: id } }),
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      var date = parseTime(res.headers.get('Date'));
      if (date !== null) {
        // The Date header has whole seconds: take the middle of that second,
        // and trust our own clock when the two agree within the rounding.
        var offset = date + 500 - Date.now();
        clockOffset = Math.abs(offset) > 1500 ? offset : 0;
      }
      return res.json();
    }).then(function (body) {
      if (generation !== metaGeneration) {
        return;
      }
      var m = readMeta(body && body.data);
      if (m) {
        meta = m;
        render();
      } else if (!(body && body.data)) {
        retry(); // no data at all: a server error, try again
      }
      // data without the object: an unknown ID, which the subscription reports.
    }, retry);
  }

  function refreshMetaSoon() {
    if (!metaTimer && Date.now() - metaAskedAt > 10000) {
      metaTimer = setTimeout(loadMeta, 0);
    }
  }

  // ---------------------------------------------------------------- the subscription, over a websocket

  var ws = null; // the current socket; handlers of an abandoned one do nothing
  var attempt = 0; // failed attempts since the last connection that worked
  var retryTimer = null;
  var pingTimer = null;
  var silenceTimer = null;
  var subscriptionID = 0;

  function send(sock, msg) {
    try {
      sock.send(JSON.stringify(msg));
    } catch (e) {
      // The socket is closing; its close event does the rest.
    }
  }

  // expect restarts the timer that declares the socket dead after ms of
  // silence.
  function expect(sock, ms) {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () {
      if (ws === sock) {
        drop(sock);
      }
    }, ms);
  }

  function connect() {
    retryTimer = null;
    if (finished) {
      return;
    }
    setConn('connecting');
    var url = (window.location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + window.location.host + ENDPOINT;
    var sock;
    try {
      sock = new WebSocket(url, PROTOCOL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    expect(sock, CONNECT_TIMEOUT);
    sock.onopen = function () {
      if (ws === sock) {
        // No token: the overlays' subscriptions are public.
        send(sock, { type: 'connection_init', payload: {} });
      }
    };
    sock.onmessage = function (ev) {
      if (ws === sock) {
        receive(sock, ev.data);
      }
    };
    sock.onclose = function () {
      if (ws === sock) {
        drop(sock);
      }
    };
    // An error is always followed by a close.
    sock.onerror = function () {};
  }

  // drop abandons the socket, whatever state it is in, and plans the next try.
  function drop(sock) {
    if (ws === sock) {
      ws = null;
    }
    clearTimeout(silenceTimer);
    clearInterval(pingTimer);
    pingTimer = null;
    try {
      sock.close();
    } catch (e) {
      // already closed
    }
    if (finished) {
      setConn('closed');
      return;
    }
    setConn('connecting');
    scheduleReconnect();
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    var ceiling = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    attempt++;
    retryTimer = setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  function subscribe(sock) {
    subscriptionID++;
    send(sock, {
      id: String(subscriptionID),
      type: 'subscribe',
      payload: { query: ops.sub, variables: { id: id } }
    });
    if (ops.feed && window.mallOverlayTicker) {
      send(sock, {
        id: 'feed' + subscriptionID,
        type: 'subscribe',
        payload: { query: ops.feed, variables: { id: id } }
      });
    }
  }

  function codeOf(errors) {
    var e = errors && errors[0];
    return (e && e.extensions && e.extensions.code) || '';
  }

  function failed(sock, errors) {
    var code = codeOf(errors);
    if (FINAL_CODES[code]) {
      finished = true;
      showError(code === 'NOT_FOUND' ? ops.notFound : '无法显示：' + ((errors[0] && errors[0].message) || code));
      drop(sock);
      return;
    }
    // Anything else (the server's trouble, say): start over later.
    drop(sock);
  }

  function receive(sock, raw) {
    var msg;
    try {
      msg = JSON.parse(raw);
    } catch (e) {
      return;
    }
    if (!msg || typeof msg.type !== 'string') {
      return;
    }
    expect(sock, SILENCE_LIMIT);
    var current = msg.id === String(subscriptionID);
    switch (msg.type) {
      case 'connection_ack':
        setConn('open');
        subscribe(sock);
        loadMeta(); // the sale may have been moved while we were away
        clearInterval(pingTimer);
        pingTimer = setInterval(function () {
          if (ws === sock) {
            send(sock, { type: 'ping' });
          }
        }, PING_EVERY);
        break;
      case 'ping':
        send(sock, { type: 'pong' });
        break;
      case 'next':
        if (msg.id === 'feed' + subscriptionID) {
          // The ticker; its refusals are the counters' too, shown by them.
          var feed = msg.payload && msg.payload.data && msg.payload.data.liveEventFeed;
          if (feed) {
            window.mallOverlayTicker.render($('ticker'), feed.purchases);
          }
          break;
        }
        if (!current) {
          break;
        }
        var payload = msg.payload || {};
        var data = payload.data && (payload.data.flashSaleStock || payload.data.liveEventCounters);
        if (!data) {
          if (payload.errors) {
            failed(sock, payload.errors);
          }
          break;
        }
        attempt = 0; // this connection works
        last = data;
        root.setAttribute('data-state', 'live');
        show(el.error, false);
        render();
        break;
      case 'error':
        if (current) {
          failed(sock, msg.payload);
        }
        break;
      case 'complete':
        if (current) {
          // The server ended the stream. An ended sale stays as it is;
          // anything else is picked up again.
          if (kind === 'flash-sale' && saleStatus() === 'ENDED') {
            finished = true;
          }
          drop(sock);
        }
        break;
    }
  }

  // The browser knows when the network is back: no need to wait out the backoff.
  window.addEventListener('online', function () {
    if (retryTimer) {
      clearTimeout(retryTimer);
      attempt = 0;
      connect();
    }
  });

  // Countdowns move by the clock, not by messages.
  setInterval(renderStatus, 250);
  connect();
})();
