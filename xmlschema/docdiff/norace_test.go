//go:build !race

package docdiff_test

const raceOn = false
