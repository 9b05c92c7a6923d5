package gateway

import (
	"strings"
	"testing"
)

func TestLenientMultipart(t *testing.T) {
	cases := []struct {
		name, ct, body string
		want           map[string]string
	}{
		{"unquoted = boundary, CRLF, LF before close", "multipart/form-data; boundary=" + "===============1==",
			"--===============1==\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n1\r\n--===============1==\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"p.xml\"\r\n\r\n<plan/>\n--===============1==--\r\n",
			map[string]string{"mode": "1", "frePPLe plan": "<plan/>"}},
		{"LF with some CRLF", `multipart/form-data; boundary="**MessageBoundary**"`,
			"--**MessageBoundary**\nContent-Disposition: form-data; name=\"actual_user\"\r\n\nadmin\r\n--**MessageBoundary**\nContent-Disposition: file; name=\"frePPLe plan\"\n\n<plan>\r\n</plan>\n--**MessageBoundary**--\n",
			map[string]string{"actual_user": "admin", "frePPLe plan": "<plan>\r\n</plan>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts, err := readLenientMultipart(strings.NewReader(c.body), c.ct, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range parts {
				got[p.Name] = string(p.Body)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
	if _, err := readLenientMultipart(strings.NewReader(strings.Repeat("x", 100)), "multipart/form-data; boundary=b", 10); err != errTooLarge {
		t.Errorf("oversized: %v", err)
	}
	if _, err := readLenientMultipart(strings.NewReader("--b\r\n"), "text/plain", 0); err == nil {
		t.Error("non-multipart accepted")
	}
}
