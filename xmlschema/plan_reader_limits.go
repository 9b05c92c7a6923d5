package xmlschema

import (
	"bytes"
	"fmt"
	"io"
)

// PlanLimits bound what one plan document may hold, so that a broken or
// hostile body cannot make the reader use unbounded memory: encoding/xml
// keeps a whole tag, run of text, comment or CDATA section in memory
// before it returns it, and one stack entry per open element. A plan the
// planner writes is six elements deep with tags of a few hundred bytes.
// Zero fields take the defaults.
type PlanLimits struct {
	MaxDepth int // elements open at once (default 32)
	// MaxToken bounds the bytes of one tag with its attributes, one run
	// of text, one comment, CDATA section, processing instruction or
	// declaration (default 1 MiB).
	MaxToken int
	MaxAttrs int // attributes of one element (default 256)
	// MaxElements bounds the operationplan, workorder and resource
	// elements a document may hold: the importer keeps them all to
	// validate the whole plan before its first write (default 200,000:
	// about 150 MB of records).
	MaxElements int
}

// DefaultPlanLimits are the limits of NewPlanReader.
var DefaultPlanLimits = PlanLimits{MaxDepth: 32, MaxToken: 1 << 20, MaxAttrs: 256, MaxElements: 200_000}

func (l PlanLimits) withDefaults() PlanLimits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultPlanLimits.MaxDepth
	}
	if l.MaxToken <= 0 {
		l.MaxToken = DefaultPlanLimits.MaxToken
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultPlanLimits.MaxAttrs
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultPlanLimits.MaxElements
	}
	return l
}

// lexState is where boundedInput is in the XML syntax.
type lexState uint8

const (
	inText      lexState = iota // character data
	inOpen                      // after '<'
	inTag                       // a start or end tag
	inBang                      // after "<!": comment, CDATA or declaration
	inComment                   // after "<!--"
	inCDATA                     // after "<![CDATA["
	inPI                        // after "<?"
	inDirective                 // after "<!" and anything else
)

var unitNames = [...]string{inText: "text", inOpen: "element tag", inTag: "element tag", inBang: "declaration",
	inComment: "comment", inCDATA: "CDATA section", inPI: "processing instruction", inDirective: "declaration"}

// boundedInput passes a document through while following its lexical
// structure just far enough to measure each unit encoding/xml buffers
// whole; a unit longer than max fails the read with a *PlanSyntaxError.
// It reads bytes, so it suits UTF-8 and the single-byte encodings a plan
// may declare (their markup characters are ASCII).
type boundedInput struct {
	r     io.Reader
	max   int
	state lexState
	n     int    // bytes of the current unit
	quote byte   // the open quote of an attribute value, 0 outside
	tail  uint16 // the two bytes before this one, for the terminators -->, ]]> and ?>
	bang  []byte // what follows "<!", until it says which construct this is
	line  int
	err   error
}

func newBoundedInput(r io.Reader, max int) *boundedInput {
	return &boundedInput{r: r, max: max, line: 1}
}

func (b *boundedInput) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if serr := b.scan(p[:n]); serr != nil {
		b.err = serr
		return 0, serr
	}
	return n, err
}

func (b *boundedInput) scan(p []byte) error {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if b.state == inText {
			// Fast path: skip to the next markup.
			j := bytes.IndexByte(p[i:], '<')
			if j < 0 {
				j = len(p) - i
			}
			b.line += bytes.Count(p[i:i+j], []byte{'\n'})
			b.n += j
			if b.n > b.max {
				return b.tooLong()
			}
			i += j
			if i == len(p) {
				return nil
			}
			b.state, b.n = inOpen, 1
			continue
		}
		if c == '\n' {
			b.line++
		}
		b.n++
		if b.n > b.max {
			return b.tooLong()
		}
		prev := b.tail
		b.tail = b.tail<<8 | uint16(c)
		switch b.state {
		case inOpen:
			switch c {
			case '!':
				b.state, b.bang = inBang, b.bang[:0]
			case '?':
				b.state, b.tail = inPI, 0
			case '>':
				b.state, b.n = inText, 0
			default:
				b.state = inTag
				b.quoteOrEnd(c)
			}
		case inTag:
			b.quoteOrEnd(c)
		case inBang:
			b.bang = append(b.bang, c)
			switch s := string(b.bang); {
			case s == "--":
				b.state, b.tail = inComment, 0
			case s == "[CDATA[":
				b.state, b.tail = inCDATA, 0
			case len(s) < 2 && s == "-"[:len(s)], len(s) < 7 && s == "[CDATA["[:len(s)]:
				// not decided yet
			default:
				// DOCTYPE, ENTITY, …: the reader refuses it as soon as it
				// is read, so its end need not be found here.
				b.state = inDirective
			}
		case inComment:
			if c == '>' && prev == '-'<<8|'-' {
				b.state, b.n = inText, 0
			}
		case inCDATA:
			if c == '>' && prev == ']'<<8|']' {
				b.state, b.n = inText, 0
			}
		case inPI:
			if c == '>' && prev&0xff == '?' {
				b.state, b.n = inText, 0
			}
		}
	}
	return nil
}

// quoteOrEnd follows a tag: quoted attribute values may hold '>'.
func (b *boundedInput) quoteOrEnd(c byte) {
	switch {
	case b.quote != 0:
		if c == b.quote {
			b.quote = 0
		}
	case c == '"' || c == '\'':
		b.quote = c
	case c == '>':
		b.state, b.n = inText, 0
	}
}

func (b *boundedInput) tooLong() error {
	return &PlanSyntaxError{Line: b.line, Msg: fmt.Sprintf("%s longer than %d bytes", unitNames[b.state], b.max)}
}
