package gateway_test

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/gateway"
)

// chromiumPath finds a Chromium for the browser test: $PLANGATE_CHROMIUM,
// then chromium or chromium-browser on PATH, then Debian's /usr/bin/chromium.
func chromiumPath() string {
	if p := os.Getenv("PLANGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// runChromium runs headless Chromium once on url with extra flags and
// returns its standard output. The network stays closed: every switch
// that would make it call home is off.
func runChromium(t *testing.T, bin, url string, extra ...string) []byte {
	t.Helper()
	// Generous: a loaded 2-core machine has taken 12 s to render a trivial page.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestPageInHeadlessChromium loads / in a real browser: the DOM it builds
// has the export form, and the screenshot is a 1200×900 PNG with the
// page drawn on it (the green header, text), not a blank or error page.
func TestPageInHeadlessChromium(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("chromium not found (Debian package chromium; .ci/run installs it, or set PLANGATE_CHROMIUM): browser test skipped")
	}
	r := startObserved(t, gateway.Config{DefaultDatabase: "odoo17"}, "")
	url := r.gw.URL + "/"

	dom := string(runChromium(t, bin, url, "--dump-dom"))
	for _, want := range []string{`<form id="export-form" method="get" action="frepple/xml">`,
		`name="database"`, `value="odoo17"`, `name="company"`, `name="mode"`, `name="timezone"`, `name="language"`,
		`<button type="submit">`, `href="readyz"`, `href="metrics"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM Chromium built lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("DOM:\n%s", tail(dom, 3000))
	}

	shot := filepath.Join(t.TempDir(), "page.png")
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1200,900", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 900 {
		t.Fatalf("screenshot is %dx%d, want 1200x900", b.Dx(), b.Dy())
	}
	colours, nonWhite, headerGreen := pixelStats(img)
	t.Logf("screenshot: %d colours, %.1f%% non-white, header green %.1f%% of the top band", colours, 100*nonWhite, 100*headerGreen)
	if colours < 16 {
		t.Errorf("screenshot has %d colours: blank?", colours)
	}
	if nonWhite < 0.05 || nonWhite > 0.9 {
		t.Errorf("%.1f%% of the screenshot is not white: want a page on white", 100*nonWhite)
	}
	if headerGreen < 0.5 {
		t.Errorf("only %.1f%% of the top band has the header colour: the stylesheet did not apply", 100*headerGreen)
	}
	if os.Getenv("PLANGATE_KEEP_SCREENSHOT") != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(os.Getenv("PLANGATE_KEEP_SCREENSHOT"), data, 0o644)
	}
}

// pixelStats counts distinct colours, the share of pixels that are not
// white, and the share of the top 40 rows with the header green #0b6e4f.
func pixelStats(img image.Image) (colours int, nonWhite, headerGreen float64) {
	b := img.Bounds()
	// Read the pixels straight from the buffer: img.At per pixel is slow
	// under the race detector.
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(b)
		draw.Draw(rgba, b, img, b.Min, draw.Src)
	}
	seen := map[uint32]struct{}{}
	var nw, green, top int
	for y := 0; y < b.Dy(); y++ {
		row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*b.Dx()]
		for x := 0; x < len(row); x += 4 {
			r, g, bl := uint32(row[x]), uint32(row[x+1]), uint32(row[x+2])
			seen[r<<16|g<<8|bl] = struct{}{}
			if r < 250 || g < 250 || bl < 250 {
				nw++
			}
			if y < 40 {
				top++
				if near(r, 0x0b) && near(g, 0x6e) && near(bl, 0x4f) {
					green++
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	return len(seen), float64(nw) / float64(total), float64(green) / float64(top)
}

func near(v, want uint32) bool { return v+6 >= want && v <= want+6 }
