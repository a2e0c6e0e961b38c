package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Throttle is one rate-limit bucket shared by every instance (failed
// sign-ins per phone and per client address, old-password guesses per
// member). It is a GCRA bucket: one number, the theoretical arrival time,
// moved by a conditional upsert (internal/throttle), so concurrent attempts
// on any number of instances are counted exactly.
type Throttle struct{ ent.Schema }

func (Throttle) Fields() []ent.Field {
	return []ent.Field{
		// The SHA-256 (hex) of the bucket's key ("phone:1380..."), so no
		// phone number or address is kept here.
		field.String("id").NotEmpty().Immutable(),
		// Theoretical arrival time, in microseconds since the Unix epoch:
		// the bucket is full again once the clock passes it.
		field.Int64("tat"),
	}
}

func (Throttle) Indexes() []ent.Index {
	// The purge deletes buckets that have refilled.
	return []ent.Index{index.Fields("tat")}
}

func (Throttle) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }
