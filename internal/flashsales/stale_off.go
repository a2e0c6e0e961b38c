//go:build !chaos_stale_holdings

package flashsales

// staleHoldings is false in every real build; see stale_on.go.
const staleHoldings = false
