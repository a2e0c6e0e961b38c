package chaos

// ContractCodes are the error codes of the client contract
// (../shared/contract/README.md, Errors), gqlgen's own included.
var ContractCodes = []string{
	"UNAUTHENTICATED", "FORBIDDEN", "NOT_VERIFIED", "BAD_USER_INPUT", "NOT_FOUND",
	"INVALID_CREDENTIALS", "PHONE_TAKEN", "INVALID_STATE", "RATE_LIMITED",
	"OUT_OF_STOCK", "SOLD_OUT", "LIMIT_EXCEEDED", "NOT_STARTED", "ENDED",
	"ALREADY_CLAIMED", "QUOTA_EXHAUSTED", "COUPON_NOT_APPLICABLE", "COUPON_UNAVAILABLE",
	"PRODUCT_UNAVAILABLE", "TOO_MANY_SUBSCRIPTIONS",
	"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "PERSISTED_QUERY_NOT_FOUND",
}

// The GraphQL documents of the workload: one root field per mutation.
const (
	buyDoc      = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id total } }`
	placeDoc    = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id total } }`
	confirmDoc  = `mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { id status } }`
	cancelDoc   = `mutation($id: ID!) { cancelOrder(id: $id) { id status } }`
	addressDoc  = `mutation($id: ID!, $a: ShippingAddressInput!) { setShippingAddress(orderID: $id, input: $a) { id } }`
	shipDoc     = `mutation($i: ShipOrderInput!) { shipOrder(input: $i) { id status } }`
	completeDoc = `mutation($id: ID!) { completeOrder(id: $id) { id status } }`
	refundDoc   = `mutation($i: RefundOrderInput!) { refundOrder(input: $i) { id status } }`
	claimDoc    = `mutation($id: ID!) { claimCouponPack(campaignID: $id) { id threshold } }`
	restockDoc  = `mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id stock } }`
	loginDoc    = `mutation($i: LoginInput!) { login(input: $i) { token member { id } } }`
	logoutDoc   = `mutation { logout }`
	passwordDoc = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`
	endSaleDoc  = `mutation($id: ID!) { endFlashSale(id: $id) { id status } }`
	meDoc       = `{ me { id } }`
	payDoc      = `mutation($i: PayOrderInput!) { payOrder(input: $i) { order { id number } channel expiresAt
		jsapi { appId package signType paySign } app { appid partnerid prepayid sign } } }`
	orderDoc = `query($id: ID!) { node(id: $id) { ... on Order { status payment { status } } } }`
)

// The kinds of request, and the outcomes each may have when no fault is
// in the way (a retry after a fault may have any contract outcome: what
// it retries may or may not have happened).
const (
	kindBuy          = "buyFlashSale"
	kindBuyReplay    = "buyFlashSale (same key, another instance)"
	kindBuyReusedKey = "buyFlashSale (a placeOrder's key)"
	kindBuyRevoked   = "buyFlashSale (revoked token)"
	kindPlace        = "placeOrder"
	kindPlaceCoupon  = "placeOrder (coupon, contended stock)"
	kindConfirm      = "confirmPayment"
	kindConfirmAgain = "confirmPayment (same reference again)"
	kindConfirmLate  = "confirmPayment (order no longer pending)"
	kindCancel       = "cancelOrder"
	kindAddress      = "setShippingAddress"
	kindShip         = "shipOrder"
	kindComplete     = "completeOrder"
	kindRefund       = "refundOrder"
	kindClaim        = "claimCouponPack"
	kindClaimRevoked = "claimCouponPack (revoked token)"
	kindRestock      = "updateProduct (stockDelta)"
	kindUnstock      = "updateProduct (stockDelta below zero)"
	kindLogin        = "login"
	kindLoginWrong   = "login (wrong password)"
	kindLogout       = "logout"
	kindPassword     = "changePassword"
	kindMe           = "me"
	kindMeRevoked    = "me (revoked token)"
	kindEndSale      = "endFlashSale"
	kindPay          = "payOrder"
	kindPayAgain     = "payOrder (again, another instance)"
	kindPayOther     = "payOrder (another channel)"
	kindPaidStatus   = "order (the buyer looks after paying)"
	kindCancelPaying = "cancelOrder (while the payer pays)"
	kindRefundPaid   = "refundOrder (paid through WeChat Pay)"
	kindRefundAgain  = "refundOrder (again, refund under way)"
	kindStats        = "platformStats"
	kindSetup        = "setup"
)

var expected = map[string][]string{
	kindBuy:          {OK, "SOLD_OUT", "LIMIT_EXCEEDED", "ENDED", "RATE_LIMITED"},
	kindBuyReplay:    {OK, "SOLD_OUT", "LIMIT_EXCEEDED", "ENDED", "RATE_LIMITED"},
	kindBuyReusedKey: {"BAD_USER_INPUT", "SOLD_OUT"}, // a sold-out refusal may come first
	kindBuyRevoked:   {"UNAUTHENTICATED"},
	kindPlace:        {OK, "OUT_OF_STOCK"},
	kindPlaceCoupon:  {OK, "OUT_OF_STOCK", "COUPON_UNAVAILABLE"},
	kindConfirm:      {OK, "INVALID_STATE"},
	kindConfirmAgain: {OK},
	kindConfirmLate:  {"INVALID_STATE"},
	kindCancel:       {OK, "INVALID_STATE"},
	kindAddress:      {OK, "INVALID_STATE"},
	kindShip:         {OK},
	kindComplete:     {OK},
	kindRefund:       {OK},
	kindClaim:        {OK, "ALREADY_CLAIMED", "QUOTA_EXHAUSTED"},
	kindClaimRevoked: {"UNAUTHENTICATED"},
	kindRestock:      {OK},
	kindUnstock:      {"BAD_USER_INPUT"},
	kindLogin:        {OK, "RATE_LIMITED"},
	kindLoginWrong:   {"INVALID_CREDENTIALS", "RATE_LIMITED"},
	kindLogout:       {OK},
	kindPassword:     {OK, "RATE_LIMITED"},
	kindMe:           {OK},
	kindMeRevoked:    {OK},
	kindEndSale:      {OK},
	// A payment may be started only while the order awaits payment; the
	// payer may meet the window's end (or the other call's channel).
	kindPay:          {OK, "INVALID_STATE"},
	kindPayAgain:     {OK, "INVALID_STATE"},
	kindPayOther:     {"INVALID_STATE"},
	kindPaidStatus:   {OK},
	kindCancelPaying: {OK, "INVALID_STATE"},
	kindRefundPaid:   {OK},
	kindRefundAgain:  {OK, "INVALID_STATE"},
	kindStats:        {OK},
	kindSetup:        {OK},
}

// needsMember lists the kinds whose answer other than UNAUTHENTICATED
// shows the request was served as its token's member (me is judged by the
// id it answers).
var needsMember = map[string]bool{
	kindBuy: true, kindBuyReplay: true, kindBuyReusedKey: true, kindBuyRevoked: true,
	kindPlace: true, kindPlaceCoupon: true, kindCancel: true, kindAddress: true,
	kindClaim: true, kindClaimRevoked: true, kindLogout: true, kindPassword: true,
	kindPay: true, kindPayAgain: true, kindPayOther: true, kindCancelPaying: true,
}
