package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/graph"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/metrics"
	"unionmall/internal/wsgorilla"
)

// Websocket settings: pings keep idle connections open through proxies and
// find dead peers ("ka" on the legacy graphql-ws, ping/pong on
// graphql-transport-ws: wsgorilla's KeepAlive, a timer per connection where
// gqlgen's KeepAlivePingInterval and PingPongInterval run a goroutine); a
// client has InitTimeout to say connection_init; a message may be at most
// wsReadLimit bytes.
const (
	wsInitTimeout = 10 * time.Second
	wsReadLimit   = 64 << 10
)

// wsKeepAlive is a variable for the tests only.
var wsKeepAlive = 15 * time.Second

// websocket is the subscriptions transport over gorilla/websocket, with
// the contract's auth: connection_init may carry {"Authorization": "Bearer
// <token>"}; none is anonymous (subscriptions are public); a bad one
// closes the connection with 4403.
func websocket(sessions *auth.Sessions, origins *wsgorilla.Origins, m *metrics.Metrics) *transport.Websocket {
	limit := int64(wsReadLimit)
	return &transport.Websocket{
		Implementation: counted{
			WebsocketImplementation: wsgorilla.New(wsgorilla.Options{CheckOrigin: origins.CheckOrigin, KeepAlive: wsKeepAlive}),
			m:                       m,
		},
		InitTimeout:      wsInitTimeout,
		PayloadReadLimit: &limit,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			ctx = graph.WithSubscriptionSlots(ctx)
			raw := p.GetString("Authorization")
			if raw == "" {
				raw = p.GetString("authorization")
			}
			if raw == "" {
				return context.WithValue(auth.WithViewer(ctx, nil), wsTokenKey{}, ""), nil, nil
			}
			token := auth.BearerToken(raw)
			if token == "" && !strings.Contains(raw, " ") {
				token = raw // a bare token is accepted too
			}
			v, err := sessions.Authenticate(ctx, token)
			if err != nil {
				return wsgorilla.RejectInit(ctx, "invalid token"), nil, err
			}
			return context.WithValue(auth.WithViewer(ctx, v), wsTokenKey{}, token), nil, nil
		},
	}
}

// counted counts open websocket connections for the metrics.
type counted struct {
	transport.WebsocketImplementation
	m *metrics.Metrics
}

func (c counted) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := c.WebsocketImplementation.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	c.m.WebsocketOpened()
	return &countedConn{WebsocketConn: conn, m: c.m}, nil
}

type countedConn struct {
	transport.WebsocketConn
	m      *metrics.Metrics
	closed sync.Once
}

func (c *countedConn) Close() error {
	c.closed.Do(c.m.WebsocketClosed)
	return c.WebsocketConn.Close()
}

// The optional interfaces of the wrapped connection stay visible to gqlgen.
func (c *countedConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *countedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// wsTokenKey marks a websocket connection's context with the token of its
// connection_init ("" for an anonymous connection).
type wsTokenKey struct{}

// recheckWebsocketToken gives every operation sent over a websocket a
// request slot of its own (auth.WithViewer), holding the viewer of the
// token the connection began with, checked again now: a connection must not
// outlive a logout or a password change (the check is a memory lookup;
// revocations clear the memory on every instance before they answer), and
// role and verification changes reach it the same way. Because the slot is
// the operation's, signing in (or out) over the websocket changes that
// operation only: the connection's rights stay those of its token.
func recheckWebsocketToken(sessions *auth.Sessions) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		token, ok := ctx.Value(wsTokenKey{}).(string)
		if !ok {
			return next(ctx) // not a websocket
		}
		var v *auth.Viewer
		if token != "" {
			var err error
			if v, err = sessions.Authenticate(ctx, token); err != nil {
				why := apperr.New(apperr.Unauthenticated, "the connection's token was revoked; connect again")
				if !errors.Is(err, auth.ErrInvalidToken) {
					slog.WarnContext(ctx, "authentication failed: database unavailable?", "err", err)
					why = apperr.New(apperr.Internal, "the service is unavailable")
				}
				return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
					Message: apperr.Message(ctx, why), Extensions: map[string]any{"code": string(why.Code)},
				}}})
			}
		}
		return next(auth.WithViewer(ctx, v))
	}
}
