package demo

import (
	"time"

	"unionmall/ent/county"
	"unionmall/ent/product"
	"unionmall/ent/unionorganization"
	"unionmall/internal/money"
)

// The demo catalogue follows the Shaanxi Workers' Daily report on the launch
// of the mall (陕西工会消费扶贫商城, November 2020): the unions at the
// supplier conference, counties of both poverty statuses, suppliers such as
// 宁陕引汉济渭开发有限公司, the "领取1000万元消费扶贫优惠券" campaign and the
// one-yuan flash sale of 3500 barrels of 汉中香小榨菜籽油.

type orgRow struct {
	name   string
	kind   unionorganization.Kind
	parent string // name of the parent organization; "" for none
}

// Parents come before their children: Load creates them level by level.
var orgs = []orgRow{
	{"陕西省总工会", unionorganization.KindPROVINCIAL, ""},
	{"西安市总工会", unionorganization.KindCITY, "陕西省总工会"},
	{"咸阳市总工会", unionorganization.KindCITY, "陕西省总工会"},
	{"宝鸡市总工会", unionorganization.KindCITY, "陕西省总工会"},
	{"渭南市总工会", unionorganization.KindCITY, "陕西省总工会"},
	{"铜川市总工会", unionorganization.KindCITY, "陕西省总工会"},
	{"陕西省能源化学地质工会", unionorganization.KindINDUSTRY, "陕西省总工会"},
	{"陕西省教科文卫体工会", unionorganization.KindINDUSTRY, "陕西省总工会"},
	{"陕西粮农集团工会", unionorganization.KindDIRECT, "陕西省总工会"},
	{"咸阳纺织集团有限公司工会", unionorganization.KindGRASSROOTS, "咸阳市总工会"},
	{"西安市中心医院工会", unionorganization.KindGRASSROOTS, "西安市总工会"},
}

type countyRow struct {
	name, city string
	status     county.PovertyStatus
}

const (
	lifted    = county.PovertyStatusLIFTED              // 已脱贫县(区)
	withTasks = county.PovertyStatusNON_POOR_WITH_TASKS // 有脱贫任务的非贫困县(区)
)

// County names are unique within this table, so rows below refer to them by name.
var counties = []countyRow{
	{"宁陕县", "安康市", lifted},
	{"紫阳县", "安康市", lifted},
	{"平利县", "安康市", lifted},
	{"柞水县", "商洛市", lifted},
	{"洋县", "汉中市", lifted},
	{"佛坪县", "汉中市", lifted},
	{"城固县", "汉中市", withTasks},
	{"延川县", "延安市", lifted},
	{"横山区", "榆林市", lifted},
	{"富平县", "渭南市", withTasks},
	{"眉县", "宝鸡市", withTasks},
}

type supplierRow struct {
	name          string
	county        string
	beneficiaries int // 带贫人数
	joinedDaysAgo int
}

var suppliers = []supplierRow{
	// Signed at the supplier conference of 6 November with six others.
	{"宁陕引汉济渭开发有限公司", "宁陕县", 326, 3},
	{"紫阳县富硒茶业有限公司", "紫阳县", 860, 45},
	{"平利县女娲山绞股蓝茶业有限公司", "平利县", 415, 45},
	{"柞水县金米木耳产业发展有限公司", "柞水县", 1250, 45},
	{"洋县朱鹮有机农业有限公司", "洋县", 538, 40},
	{"佛坪县秦岭山珍土特产有限公司", "佛坪县", 207, 40},
	{"汉中香小粮油有限公司", "城固县", 682, 45},
	{"延川县黄河红枣开发有限公司", "延川县", 934, 38},
	{"横山区白绒山羊羊绒制品有限公司", "横山区", 452, 30},
	{"富平县尖柿饼业有限公司", "富平县", 760, 38},
	{"眉县秦岭猕猴桃专业合作社", "眉县", 381, 20},
}

type productRow struct {
	name     string
	category product.Category
	supplier string
	price    money.Fen
	// sale is the sale price when it differs from price; seasonal goods get
	// 7.5折 computed from price instead.
	sale        money.Fen
	stock       int // before flash sales take their units
	offSale     bool
	description string
}

// Seasonal warm goods sell at 7.5折 ("应季保暖产品每件7.5折起").
const seasonalNum, seasonalDen = 75, 100

var products = []productRow{
	// 陕茶茗品
	{name: "紫阳富硒茶 明前毛尖 250g", category: product.CategoryTEA, supplier: "紫阳县富硒茶业有限公司",
		price: y("128.00"), stock: 1200,
		description: "汉江之畔紫阳县高山茶园明前采摘，天然富硒，汤色嫩绿、栗香持久。"},
	{name: "紫阳翠峰 绿茶 100g 罐装", category: product.CategoryTEA, supplier: "紫阳县富硒茶业有限公司",
		price: y("58.00"), stock: 2000,
		description: "紫阳翠峰条索紧细，清香回甘，罐装便于保存，办公自饮两相宜。"},
	{name: "平利绞股蓝茶 150g", category: product.CategoryTEA, supplier: "平利县女娲山绞股蓝茶业有限公司",
		price: y("45.00"), stock: 1500,
		description: "平利县女娲山绞股蓝，七叶品种，甘中带苦，清热解乏，农户订单种植。"},
	// 山野干货
	{name: "柞水木耳 秦岭小碗耳 250g", category: product.CategoryMOUNTAIN_GOODS, supplier: "柞水县金米木耳产业发展有限公司",
		price: y("39.90"), stock: 3000,
		description: "柞水县金米村木耳，肉厚朵小，泡发率高，秦岭山区椴木与菌包栽培。"},
	{name: "柞水木耳 礼盒 500g", category: product.CategoryMOUNTAIN_GOODS, supplier: "柞水县金米木耳产业发展有限公司",
		price: y("75.00"), stock: 800,
		description: "精选柞水小碗耳礼盒装，单位慰问、节日福利之选。"},
	{name: "宁陕秦岭板栗 2.5kg", category: product.CategoryMOUNTAIN_GOODS, supplier: "宁陕引汉济渭开发有限公司",
		price: y("68.00"), stock: 900,
		description: "宁陕县秦岭深处野生板栗，颗粒饱满，糯甜粉香，带动库区移民增收。"},
	{name: "佛坪香菇 干货 250g", category: product.CategoryMOUNTAIN_GOODS, supplier: "佛坪县秦岭山珍土特产有限公司",
		price: y("32.00"), stock: 1600,
		description: "大熊猫栖息地佛坪县的段木香菇，菇香浓郁，煲汤炖肉皆宜。"},
	{name: "佛坪土蜂蜜 500g", category: product.CategoryMOUNTAIN_GOODS, supplier: "佛坪县秦岭山珍土特产有限公司",
		price: y("88.00"), stock: 400, offSale: true,
		description: "秦岭中华蜂百花土蜂蜜，一年一取。今年新蜜十二月上市，暂停销售。"},
	// 休闲零食
	{name: "富平柿饼 1kg 礼盒", category: product.CategorySNACKS, supplier: "富平县尖柿饼业有限公司",
		price: y("59.90"), stock: 2500,
		description: "富平尖柿手工削皮、自然晾晒捂霜，软糯流心，国家地理标志产品。"},
	{name: "延川狗头枣 1kg", category: product.CategorySNACKS, supplier: "延川县黄河红枣开发有限公司",
		price: y("39.80"), stock: 2200,
		description: "黄河沿岸延川县红枣，皮薄肉厚，甘甜耐嚼，枣农合作社统一收购。"},
	{name: "延川红枣夹核桃 500g", category: product.CategorySNACKS, supplier: "延川县黄河红枣开发有限公司",
		price: y("29.90"), stock: 1800,
		description: "延川红枣去核夹陕北核桃仁，香甜酥脆，独立小包装。"},
	{name: "眉县猕猴桃果干 200g", category: product.CategorySNACKS, supplier: "眉县秦岭猕猴桃专业合作社",
		price: y("19.90"), stock: 1500,
		description: "眉县徐香猕猴桃低温烘干，酸甜适口，不添加色素。"},
	// 米面粮油
	{name: "汉中香小榨菜籽油 5L", category: product.CategoryGRAIN_OIL, supplier: "汉中香小粮油有限公司",
		price: y("89.90"), stock: 10000,
		description: "汉中盆地双低油菜籽，传统小榨工艺，油香浓郁，非转基因。直播间一元秒杀专场主推。"},
	{name: "汉中香小榨菜籽油 1.8L", category: product.CategoryGRAIN_OIL, supplier: "汉中香小粮油有限公司",
		price: y("35.80"), stock: 3000,
		description: "汉中香小榨菜籽油小瓶装，适合小家庭与单身职工。"},
	{name: "洋县朱鹮黑米 2.5kg", category: product.CategoryGRAIN_OIL, supplier: "洋县朱鹮有机农业有限公司",
		price: y("59.90"), sale: y("49.90"), stock: 1200,
		description: "朱鹮栖息地洋县有机稻田所产黑米，营养丰富，煮粥熬饭香糯。"},
	{name: "洋县有机富硒大米 5kg", category: product.CategoryGRAIN_OIL, supplier: "洋县朱鹮有机农业有限公司",
		price: y("69.00"), stock: 1500,
		description: "不施化肥农药的朱鹮共生稻田，米粒晶莹，口感软糯。"},
	// 应季保暖 (7.5折)
	{name: "横山羊绒围巾", category: product.CategorySEASONAL, supplier: "横山区白绒山羊羊绒制品有限公司",
		price: y("268.00"), stock: 600,
		description: "陕北白绒山羊绒织就，轻薄保暖，多色可选。"},
	{name: "横山纯山羊绒衫 男女款", category: product.CategorySEASONAL, supplier: "横山区白绒山羊羊绒制品有限公司",
		price: y("598.00"), stock: 400,
		description: "百分之百山羊绒圆领衫，柔软亲肤，横山区妇女扶贫车间手工缝制。"},
	{name: "横山羊毛保暖袜 3双装", category: product.CategorySEASONAL, supplier: "横山区白绒山羊羊绒制品有限公司",
		price: y("39.90"), stock: 3000,
		description: "加厚羊毛袜，透气不闷脚，冬季户外作业职工适用。"},
	{name: "横山羊毛护膝 一对", category: product.CategorySEASONAL, supplier: "横山区白绒山羊羊绒制品有限公司",
		price: y("59.90"), stock: 1000,
		description: "羊毛内胆护膝，贴合关节，骑行、久坐防寒。"},
	// 其他
	{name: "引汉济渭秦岭山泉水 550ml×24瓶", category: product.CategoryOTHER, supplier: "宁陕引汉济渭开发有限公司",
		price: y("36.00"), stock: 2000,
		description: "取自引汉济渭工程水源地宁陕县秦岭山泉，低钠弱碱，整箱配送。"},
}

// The live event started a little before now and runs three more hours.
const (
	liveTitle      = "陕西工会消费扶贫直播间 · 一元秒杀专场"
	liveStreamURL  = "https://live.example.org/shaanxi-union"
	liveStartedAgo = 10 * time.Minute
	liveEndsIn     = 3 * time.Hour
)

type flashSaleRow struct {
	product  string
	price    money.Fen
	quantity int
	limit    int           // per member
	startsIn time.Duration // after now; every sale ends with the live event
}

var flashSales = []flashSaleRow{
	// "每天推出一元'秒杀'3500桶汉中香小榨菜籽油"
	{"汉中香小榨菜籽油 5L", y("1.00"), 3500, 1, 0},
	{"紫阳富硒茶 明前毛尖 250g", y("9.90"), 500, 2, time.Hour},
}

// The campaign of "领取1000万元消费扶贫优惠券": a pack of four 满减 coupons.
const (
	campaignName      = "消费扶贫优惠券"
	campaignClaimDays = 5 // coupons are handed out on five days (11月7日至11日)
	campaignValidDays = 7
	campaignDailyPack = 20000
)

var campaignBudget = money.FromYuan(10_000_000)

type tierRow struct{ threshold, discount money.Fen }

var tiers = []tierRow{
	{money.FromYuan(20), money.FromYuan(10)},
	{money.FromYuan(40), money.FromYuan(20)},
	{money.FromYuan(100), money.FromYuan(50)},
	{money.FromYuan(200), money.FromYuan(100)},
}

type unitRow struct {
	name              string
	org               string
	registeredDaysAgo int
}

var units = []unitRow{
	{"陕西粮农集团有限责任公司", "陕西粮农集团工会", 60},
	{"咸阳市总工会机关", "咸阳市总工会", 50},
	{"西安市中心医院", "西安市中心医院工会", 35},
	{"咸阳纺织集团有限公司", "咸阳纺织集团有限公司工会", 30},
}

// An offline procurement buys quantity units of a product at its price
// from the product's supplier.
type procurementRow struct {
	unit     string
	product  string
	quantity int
	daysAgo  int
	purpose  string
}

var procurements = []procurementRow{
	{"陕西粮农集团有限责任公司", "紫阳富硒茶 明前毛尖 250g", 300, 21, "职工疗休养用茶"},
	{"陕西粮农集团有限责任公司", "汉中香小榨菜籽油 5L", 4300, 14, "职工福利"},
	{"咸阳市总工会机关", "柞水木耳 礼盒 500g", 600, 10, "困难职工慰问品"},
	{"西安市中心医院", "富平柿饼 1kg 礼盒", 800, 7, "医护人员节日慰问"},
	{"咸阳纺织集团有限公司", "延川狗头枣 1kg", 1200, 3, "赵梦桃小组所在车间职工福利"},
}

// y reads a literal amount of yuan of the tables above.
func y(s string) money.Fen {
	f, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return f
}
