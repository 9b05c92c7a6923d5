//go:build race

package docdiff_test

// raceOn: the race detector slows the comparison several times, so the
// time limit of the large-document test is not asserted under it.
const raceOn = true
