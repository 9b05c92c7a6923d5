package export

// opsState holds what the operations and demands sections build (spec
// §3.4.13–3.4.14).
type opsState struct {
	// openMoves are the open stock moves of S3 by id (demands and their
	// reservations).
	openMoves map[int]*openMove
}

// openMove is one stock move of read S3.
type openMove struct {
	ID            int
	Orig          []int
	Product       int
	Date          string
	Quantity      float64
	ProcureMethod string
	ProductUOMQty float64
	ProductUOM    int
	State         string
}
