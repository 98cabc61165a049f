package domain

// Page limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Sort orders for Page.Order.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
)

// Page asks for one page of a list. IDs sort by creation time, so an id
// is a cursor: a store of any kind can answer "the next Limit after this".
type Page struct {
	Limit  int    // 1..100, 0 means 20
	Order  string // "asc" or "desc" (default desc)
	After  string // an id: return items after it in the chosen order
	Before string // an id: return items before it in the chosen order
}
