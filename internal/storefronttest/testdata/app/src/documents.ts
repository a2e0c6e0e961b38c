// Every operation the storefront sends; GraphQL Code Generator types them
// from the served schema (src/gql) and lists them in the manifest.
import { graphql } from "./gql/index.js";

export const Catalogue = graphql(`
  query Catalogue($first: Int, $after: Cursor) {
    products(first: $first, after: $after, where: { onSale: true }) {
      edges {
        node {
          id
          name
          salePrice
          stock
          cover { url width height contentType }
          images { id url position }
          supplier { id name }
          county { id name }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const Categories = graphql(`
  query Categories { productCategories { category name } }
`);

export const UploadImage = graphql(`
  mutation UploadImage($productID: ID!, $file: Upload!) {
    uploadProductImage(productID: $productID, file: $file, cover: true) { id url contentType width height position }
  }
`);

export const ClaimPack = graphql(`
  mutation ClaimPack($campaignID: ID!) { claimCouponPack(campaignID: $campaignID) { id threshold discount } }
`);

const CartFields = graphql(`
  fragment CartFields on Cart {
    itemCount
    subtotal
    lines { id quantity unitPrice lineTotal problem product { id name } }
  }
`);

export const AddToCart = graphql(`
  mutation AddToCart($input: CartLineInput!) { addToCart(input: $input) { ...CartFields } }
`);

export const CartQuery = graphql(`
  query Cart { cart { ...CartFields } }
`);

export const QuoteCart = graphql(`
  query QuoteCart {
    quote {
      subtotal
      discount
      total
      orderable
      bestCoupon { id threshold discount }
      appliedCoupon { id }
      coupons { applicable discount reason coupon { id threshold discount } }
    }
  }
`);

export const PlaceFromCart = graphql(`
  mutation PlaceFromCart($input: PlaceOrderInput!) {
    placeOrder(input: $input) { id number status subtotal discount total coupon { id } }
  }
`);

export const PayOrder = graphql(`
  mutation PayOrder($input: PayOrderInput!) { payOrder(input: $input) { channel sandboxURL expiresAt } }
`);

export const OrderUpdated = graphql(`
  subscription OrderUpdated($orderID: ID!) {
    orderUpdated(orderID: $orderID) { id status payment { status } }
  }
`);

export const MyOrders = graphql(`
  query MyOrders($status: OrderStatus) {
    myOrders(first: 10, status: $status) { edges { node { id status total } } }
  }
`);

export const FlashSaleCalendar = graphql(`
  query FlashSaleCalendar {
    flashSales(first: 20, status: ACTIVE) {
      edges { node { id startsAt endsAt price sold remaining status product { id name } } }
    }
  }
`);

export const FlashSaleQuery = graphql(`
  query FlashSale($id: ID!) { flashSale(id: $id) { id sold remaining status } }
`);

export const FlashSaleStock = graphql(`
  subscription FlashSaleStock($id: ID!) {
    flashSaleStock(flashSaleID: $id) { flashSaleID sold flashSale { id sold remaining status } }
  }
`);

export const BuyFlashSale = graphql(`
  mutation BuyFlashSale($id: ID!) { buyFlashSale(input: { flashSaleID: $id }) { id status } }
`);

export { CartFields };
