package oms

import (
	"fmt"
	"math"
)

func init() {
	Register("distance", "rank warehouses by great-circle distance to the customer; optionally drop those farther than max_km", newDistance)
}

type distance struct {
	maxKM       float64
	dropMissing bool
}

func newDistance(p Params) (Algorithm, error) {
	maxKM, err := p.Float("max_km", 0)
	if err != nil {
		return nil, err
	}
	if maxKM < 0 {
		return nil, fmt.Errorf("parameter max_km: must not be negative")
	}
	missing, err := p.String("missing", "last")
	if err != nil {
		return nil, err
	}
	if missing != "last" && missing != "drop" {
		return nil, fmt.Errorf("parameter missing: want last or drop, got %q", missing)
	}
	return distance{maxKM: maxKM, dropMissing: missing == "drop"}, p.Done()
}

func (a distance) Apply(in *Input) Group {
	if in.Customer == nil {
		in.Logf("customer has no coordinates: order left unchanged")
		return in.Group
	}
	km := make(map[int]float64)
	for _, w := range in.Group.Warehouses() {
		wh := in.Warehouses[w]
		if wh == nil || wh.Location == nil {
			km[w] = math.Inf(1)
			continue
		}
		km[w] = haversineKM(*in.Customer, *wh.Location)
		in.Logf("%s: %.1f km", wh.Code, km[w])
	}
	out := in.Group.Filter(func(c Candidate) bool {
		d := km[c.Warehouse]
		if math.IsInf(d, 1) {
			return !a.dropMissing
		}
		return a.maxKM == 0 || d <= a.maxKM
	})
	if n := len(in.Group) - len(out); n > 0 {
		in.Logf("dropped %d candidates (too far or without coordinates)", n)
	}
	// Unknown places go last: a huge finite priority keeps JSON valid.
	return out.Reprioritize(func(c Candidate) float64 { return math.Min(km[c.Warehouse], 1e9) })
}

// haversineKM is the great-circle distance on a sphere of Earth's mean radius.
func haversineKM(a, b Point) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
