//go:build race

package gateway

// raceEnabled shrinks the parse part of the memory tests: the race
// detector makes encoding/xml several times slower.
const raceEnabled = true
