package xmlschema

import (
	"bufio"
	"io"
)

// Writer streams a frePPLe document. It keeps the first write error and
// turns later writes into no-ops, so section code can write freely and
// check Err once; it counts the bytes written.
type Writer struct {
	bw  *bufio.Writer
	n   int64
	err error
}

// NewWriter buffers writes to w (64 KiB at a time).
func NewWriter(w io.Writer) *Writer { return &Writer{bw: bufio.NewWriterSize(w, 64<<10)} }

// S writes raw document text (already escaped).
func (w *Writer) S(parts ...string) {
	if w.err != nil {
		return
	}
	for _, s := range parts {
		n, err := w.bw.WriteString(s)
		w.n += int64(n)
		if err != nil {
			w.err = err
			return
		}
	}
}

// Attr writes ` name=<quoted value>` with the addon's quoting.
func (w *Writer) Attr(name, value string) { w.S(" ", name, "=", QuoteAttr(value)) }

// Flush pushes buffered bytes to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.bw.Flush()
	return w.err
}

// Err is the first write error, if any.
func (w *Writer) Err() error { return w.err }

// Bytes is how many bytes were written so far (buffered or not).
func (w *Writer) Bytes() int64 { return w.n }
