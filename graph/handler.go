package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
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
	// Observe, when set, is told of every query and mutation: its root
	// field ("mutation.buyFlashSale"), its outcome ("" or the first
	// error's code) and how long it took.
	Observe func(operation, code string, took time.Duration)
	// MaxDepth and Complexity bound a request's shape (defaults:
	// DefaultMaxDepth, DefaultComplexity).
	MaxDepth, Complexity int
	// AroundOperations, when set, wraps every operation (after the
	// handler's own checks).
	AroundOperations graphql.OperationMiddleware
	// Subscriptions, when set, is used after AroundOperations (which
	// every subscriber must pass): internal/submux's multiplexer.
	Subscriptions graphql.HandlerExtension
	// MaxUploadBytes bounds a multipart request (file uploads, the
	// GraphQL multipart request spec); zero: uploads are not accepted.
	MaxUploadBytes int64
	// TrustedDocuments, when set, is the only source of documents; it
	// turns automatic persisted queries and introspection off.
	TrustedDocuments *TrustedDocuments
}

// NewHandler builds the GraphQL server explicitly (not gqlgen's deprecated
// default server): GET, POST and server-sent-events transports, a parsed-query cache, automatic
// persisted queries, bounds on a request's shape and inputs, one root field
// per mutation, the contract's error codes and
// a recover function that hides internals.
func NewHandler(r *Resolver, o HandlerOptions) *handler.Server {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Complexity <= 0 {
		o.Complexity = DefaultComplexity
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  r,
		Directives: directives(),
		Complexity: complexity(),
	}))
	srv.SetValidationRulesFn(depthRule(o.MaxDepth))
	if o.Websocket != nil {
		// Before GET, which would otherwise claim the upgrade request.
		srv.AddTransport(*o.Websocket)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(newSSE()) // before POST: it claims POSTs that accept text/event-stream
	srv.AddTransport(transport.POST{})
	if o.MaxUploadBytes > 0 {
		// Files past MaxMemory wait in temporary files, not in memory.
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: o.MaxUploadBytes, MaxMemory: 2 << 20})
	}
	if r.Media != nil {
		// One image loader per response (a subscription's events each
		// get their own), so a page of products loads its images at once.
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			return next(r.Media.WithLoader(ctx))
		})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.TrustedDocuments != nil {
		srv.Use(o.TrustedDocuments)
	} else {
		if o.Introspection {
			srv.Use(extension.Introspection{})
		}
		srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	}
	srv.Use(inputLimits{}) // before the complexity, which reads the inputs
	srv.Use(extension.FixedComplexityLimit(o.Complexity))
	srv.AroundOperations(refuseNUL)
	srv.AroundOperations(oneRootMutation)
	if o.AroundOperations != nil {
		srv.AroundOperations(o.AroundOperations)
	}
	if o.Subscriptions != nil {
		srv.Use(o.Subscriptions)
	}
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	srv.AroundResponses(noteResponse)
	if o.Observe != nil {
		srv.AroundResponses(observe(o.Observe))
	}
	return srv
}

// observe reports each query and mutation once it has its response
// (subscription events are not operations of their own).
func observe(report func(operation, code string, took time.Duration)) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
			return resp
		}
		op := string(oc.Operation.Operation) + "." + rootField(oc.Operation.SelectionSet)
		code := ""
		if len(resp.Errors) > 0 {
			code, _ = resp.Errors[0].Extensions["code"].(string)
			if code == "" {
				code = "ERROR"
			}
		}
		report(op, code, time.Since(oc.Stats.OperationStart))
		return resp
	}
}

// rootField names an operation by its first root field; a label of few
// values, unlike operation names, which clients choose.
func rootField(set ast.SelectionSet) string {
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok {
			return f.Name
		}
	}
	return "other"
}
