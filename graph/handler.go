package graph

import (
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"unionmall/graph/generated"
)

// HandlerOptions tune the GraphQL handler.
type HandlerOptions struct {
	Introspection bool
	// Websocket, when set, serves subscriptions on the same endpoint.
	Websocket *transport.Websocket
}

// NewHandler builds the GraphQL server explicitly (not gqlgen's deprecated
// default server): GET and POST transports, a parsed-query cache, automatic
// persisted queries, the contract's error codes and a recover function that
// hides internals.
func NewHandler(r *Resolver, o HandlerOptions) *handler.Server {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  r,
		Directives: directives(),
	}))
	if o.Websocket != nil {
		// Before GET, which would otherwise claim the upgrade request.
		srv.AddTransport(*o.Websocket)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	return srv
}
