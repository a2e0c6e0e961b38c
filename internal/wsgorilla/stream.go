package wsgorilla

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Streams write subscription events whose JSON payload was encoded once
// for many subscribers (internal/submux): a frame differs between
// subscribers only by the subscription's id, so it is written as a prefix
// made once per subscription, the shared payload, and "}", and gqlgen's
// two marshallings per subscriber and event are skipped.

// connRef lets Accept hand its connection to the operations of the
// request (they only see contexts derived from the request's), and Detach
// learn which connection its handler left behind.
type connRef struct{ c atomic.Pointer[conn] }

type connRefKey struct{}

// handlerReturned gives a connection the transport did not close closeLinger
// more, then closes it (see Accept).
func (r *connRef) handlerReturned() {
	if c := r.c.Load(); c != nil && !c.closed.Load() {
		time.AfterFunc(c.impl.linger, c.abandoned)
	}
}

func connOf(ctx context.Context) *conn {
	if ref, ok := ctx.Value(connRefKey{}).(*connRef); ok {
		return ref.c.Load()
	}
	return nil
}

// noteID remembers the id of a subscribe (graphql-transport-ws) or start
// (graphql-ws) message. gqlgen reads a message and creates its operation
// context on the same goroutine before it reads the next one, so StreamOf,
// called while the operation context is created, sees the id of that
// operation's message.
func (c *conn) noteID(data []byte) {
	c.lastID = "" // never a previous message's
	if !bytes.Contains(data, []byte(`"subscribe"`)) && !bytes.Contains(data, []byte(`"start"`)) {
		return
	}
	var m struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &m) == nil && (m.Type == "subscribe" || m.Type == "start") {
		c.lastID = m.ID
	}
}

// readNoting reads a text message whole (the transport bounds it with
// its read limit) to note its id, and returns it to the transport, errors
// included, as it came.
func (c *conn) readNoting(r io.Reader) io.Reader {
	data, err := io.ReadAll(r)
	c.noteID(data)
	if err != nil {
		return io.MultiReader(bytes.NewReader(data), errReader{err})
	}
	return bytes.NewReader(data)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Stream writes one subscription's events.
type Stream struct {
	c      *conn
	id     string
	prefix []byte // {"id":<id>,"type":"next","payload":
}

// StreamOf returns a Stream for the subscription whose operation context
// is being created (call it from a graphql.OperationContextMutator), if
// the operation came over a connection of this package served through
// Detach.
func StreamOf(ctx context.Context) (*Stream, bool) {
	c := connOf(ctx)
	if c == nil || c.lastID == "" {
		return nil, false
	}
	typ := "data" // legacy graphql-ws
	if c.ws.Subprotocol() == "graphql-transport-ws" {
		typ = "next"
	}
	id, _ := json.Marshal(c.lastID)
	prefix := make([]byte, 0, len(id)+40)
	prefix = append(prefix, `{"id":`...)
	prefix = append(prefix, id...)
	prefix = append(prefix, `,"type":"`...)
	prefix = append(prefix, typ...)
	prefix = append(prefix, `","payload":`...)
	return &Stream{c: c, id: c.lastID, prefix: prefix}, true
}

// Payload is an event's JSON payload ({"data": ...}), encoded once.
type Payload struct {
	data []byte

	// first is the frame of the first prefix asked for, read without the
	// lock: nearly every subscriber of a group has the same prefix, and
	// thousands ask at once.
	first atomic.Pointer[preparedFrame]

	mu       sync.Mutex
	prepared map[string]*websocket.PreparedMessage // by frame prefix
}

type preparedFrame struct {
	prefix string
	pm     *websocket.PreparedMessage
}

// NewPayload wraps an encoded payload; data must not change afterwards.
func NewPayload(data []byte) *Payload { return &Payload{data: data} }

// maxPrepared bounds the frames a Payload keeps whole: subscribers whose
// ids coincide (clients number them from 1) share one, the others are
// written in pieces.
const maxPrepared = 8

func (p *Payload) preparedFor(prefix []byte) *websocket.PreparedMessage {
	if f := p.first.Load(); f != nil && f.prefix == string(prefix) {
		return f.pm
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pm := p.prepared[string(prefix)]; pm != nil {
		return pm
	}
	if len(p.prepared) >= maxPrepared {
		return nil
	}
	frame := make([]byte, 0, len(prefix)+len(p.data)+1)
	frame = append(append(append(frame, prefix...), p.data...), '}')
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		return nil
	}
	if p.prepared == nil {
		p.prepared = make(map[string]*websocket.PreparedMessage, 1)
		p.first.Store(&preparedFrame{prefix: string(prefix), pm: pm})
	}
	p.prepared[string(prefix)] = pm
	return pm
}

// Send writes p as the subscription's next event, under the same rules as
// the transport's own writes (WriteJSON): one writer at a time, the write
// timeout, dropped after a close frame, a failed write closes the
// connection.
func (s *Stream) Send(p *Payload) error {
	pm := p.preparedFor(s.prefix)
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setWriteDeadline()
	var err error
	if pm != nil {
		err = c.ws.WritePreparedMessage(pm)
	} else {
		err = s.writePieces(p.data)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, websocket.ErrCloseSent):
		c.closeSent.Store(true)
		return nil
	default:
		_ = c.ws.Close()
		return err
	}
}

func (s *Stream) writePieces(data []byte) error {
	w, err := s.c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	_, _ = w.Write(s.prefix)
	_, _ = w.Write(data)
	_, _ = w.Write([]byte{'}'})
	return w.Close()
}
