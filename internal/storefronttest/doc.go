// Package storefronttest runs a storefront written as a frontend team
// would write it (testdata/app: Apollo Client 3 with its normalized cache,
// types from GraphQL Code Generator's client preset generated from the
// served schema) through the member's whole journey against a real test
// server, on SQLite and PostgreSQL. The Node project's dependencies are
// installed by `npm ci` in testdata/app (.ci/run does it); without them, or
// without node, the test skips and says so.
package storefronttest
