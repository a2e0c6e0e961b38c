package apperr

// zh holds the Chinese form of every message the mall writes, keyed by its
// English format (what the code passes to New, BadInput or Limited). To add
// a message, add one line; catalog_test.go names the lines missing. Keep
// the verbs in order, or number them (%[2]s) where Chinese wants another
// order; a form may leave out an argument only when its verbs are numbered.
var zh = map[string]string{
}
