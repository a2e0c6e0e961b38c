// Package graph is the GraphQL layer: the schema (*.graphqls), thin
// resolvers that parse, authorize, call a domain package and map errors, and
// the server built from them.
package graph

import (
	"time"

	"unionmall/internal/account"
	"unionmall/internal/catalog"
	"unionmall/internal/db"
)

// Resolver holds what the resolvers call.
type Resolver struct {
	DB       *db.DB
	Accounts *account.Service
	Catalog  *catalog.Service
	Now      func() time.Time
}
