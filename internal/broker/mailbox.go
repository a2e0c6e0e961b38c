package broker

import "context"

type sub[T any] struct {
	ch   chan T
	stop func() bool // unregisters the context.AfterFunc
	idx  int         // in topic.subs, -1 if not in it; guarded by subMu
	gone bool        // channel closed (or never handed out); guarded by subMu
}

// publish puts v into every mailbox, replacing unread values.
func (t *topic[T]) publish(v T, ver uint64) {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	if t.closed || ver <= t.ver {
		return
	}
	t.val, t.ver = v, ver
	var skipped uint64
	for _, s := range t.subs {
		if s.offer(v) {
			skipped++
		}
	}
	t.b.nPushes.Add(uint64(len(t.subs)))
	t.b.nSkipped.Add(skipped)
}

// offer replaces the mailbox's content with v without blocking and reports
// whether an unread value was dropped. The caller holds subMu, so it is the
// only sender and the channel is open; the reader can only make room.
func (s *sub[T]) offer(v T) (skipped bool) {
	select {
	case s.ch <- v:
		return false
	default:
	}
	select {
	case <-s.ch:
		skipped = true
	default: // the reader took it meanwhile
	}
	s.ch <- v // cannot block: empty, and we are the only sender
	return skipped
}

// add registers s and gives it the current state. It fails with ErrClosed
// if the broker closed (the caller still owns the reference), or with
// context.Canceled if ctx already ended (the AfterFunc callback ran and
// released the reference).
func (t *topic[T]) add(s *sub[T]) error {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	if s.gone {
		return context.Canceled // replaced by ctx.Err() in Subscribe
	}
	if t.closed {
		s.gone = true
		return ErrClosed
	}
	s.idx = len(t.subs)
	t.subs = append(t.subs, s)
	s.ch <- t.val
	t.b.nPushes.Add(1)
	t.b.nSubs.Add(1)
	return nil
}

// unsubscribe runs when the subscriber's ctx ends.
func (t *topic[T]) unsubscribe(s *sub[T]) {
	t.subMu.Lock()
	if s.gone {
		t.subMu.Unlock()
		return
	}
	s.gone = true
	if i := s.idx; i >= 0 {
		last := len(t.subs) - 1
		t.subs[i] = t.subs[last]
		t.subs[i].idx = i
		t.subs[last] = nil
		t.subs = t.subs[:last]
		s.idx = -1
		t.b.nSubs.Add(-1)
	}
	close(s.ch)
	t.subMu.Unlock()
	t.b.release(t)
}

// closeSubs closes every mailbox for Close.
func (t *topic[T]) closeSubs() {
	t.subMu.Lock()
	subs := t.subs
	t.subs, t.closed = nil, true
	for _, s := range subs {
		s.gone, s.idx = true, -1
		close(s.ch)
	}
	t.b.nSubs.Add(-int64(len(subs)))
	t.subMu.Unlock()
	for _, s := range subs {
		s.stop()
	}
}
