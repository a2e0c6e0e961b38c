package wsgorilla

import (
	"net"
	"sync"
	"time"
)

// deadlineConn is the network connection as gorilla sees it. Gorilla sets
// the socket's write deadline before every frame it writes, to the value
// of its own SetWriteDeadline; each time that moves a runtime timer, a
// cost on every write of every subscriber of a push. The adapter keeps
// that value unchanged for half the write timeout (conn.setWriteDeadline),
// and this skips setting what the socket already has.
type deadlineConn struct {
	net.Conn

	mu    sync.Mutex
	write time.Time // the socket's write deadline
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.Equal(d.write) {
		return nil
	}
	if err := d.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	d.write = t
	return nil
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.Conn.SetDeadline(t); err != nil {
		return err
	}
	d.write = t
	return nil
}

// CloseWrite half-closes a TCP connection (see conn.Close).
func (d *deadlineConn) CloseWrite() error {
	if hc, ok := d.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return net.ErrClosed
}
