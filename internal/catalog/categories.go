package catalog

import "unionmall/ent/product"

// Category is a product category with the name the storefront shows.
type Category struct {
	Category product.Category
	Name     string
}

// Categories lists every category in display order, with the contract's
// names (its ProductCategory descriptions).
var Categories = []Category{
	{product.CategoryTEA, "陕茶茗品"},
	{product.CategoryMOUNTAIN_GOODS, "山野干货"},
	{product.CategorySNACKS, "休闲零食"},
	{product.CategoryGRAIN_OIL, "米面粮油"},
	{product.CategorySEASONAL, "应季保暖"},
	{product.CategoryOTHER, "其他"},
}
