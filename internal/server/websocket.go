package server

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"unionmall/graph"
	"unionmall/internal/auth"
	"unionmall/internal/wsgorilla"
)

// Websocket settings: pings keep idle connections open through proxies and
// find dead peers (KeepAlivePingInterval serves the legacy graphql-ws,
// PingPongInterval graphql-transport-ws); a client has InitTimeout to say
// connection_init; a message may be at most wsReadLimit bytes.
const (
	wsKeepAlive   = 15 * time.Second
	wsInitTimeout = 10 * time.Second
	wsReadLimit   = 64 << 10
)

// websocket is the subscriptions transport over gorilla/websocket, with
// the contract's auth: connection_init may carry {"Authorization": "Bearer
// <token>"}; none is anonymous (subscriptions are public); a bad one
// closes the connection with 4403.
func websocket(sessions *auth.Sessions, origins []string) *transport.Websocket {
	limit := int64(wsReadLimit)
	return &transport.Websocket{
		Implementation:        wsgorilla.New(wsgorilla.Options{CheckOrigin: wsgorilla.AllowOrigins(origins)}),
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive,
		PingPongInterval:      wsKeepAlive,
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			ctx = graph.WithSubscriptionSlots(ctx)
			raw := p.GetString("Authorization")
			if raw == "" {
				raw = p.GetString("authorization")
			}
			if raw == "" {
				return auth.WithViewer(ctx, nil), nil, nil
			}
			token := auth.BearerToken(raw)
			if token == "" && !strings.Contains(raw, " ") {
				token = raw // a bare token is accepted too
			}
			v, err := sessions.Authenticate(ctx, token)
			if err != nil {
				return wsgorilla.RejectInit(ctx, "invalid token"), nil, err
			}
			return auth.WithViewer(ctx, v), nil, nil
		},
	}
}
