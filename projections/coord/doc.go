// Package coord coordinates replicas through the shared store (Redis): it
// decides which replica runs each probe (slot claims), applies results
// atomically with fencing and hysteresis, records every transition in an
// outbox stream in the same step, and relays the outbox to the event bus
// with at-least-once delivery and reclaiming of a dead replica's entries.
//
// Key layout, under a prefix P (default "dbsvc"):
//
//	P:claim:<kind>/<name>:<step>:<bucket>  claim of one bucket (SET NX PX)
//	P:state:<kind>/<name>                  hash: stable, cand, count, seq, epoch, last_slot, since
//	P:outbox                               stream of transitions not yet published
//
// Every key of a call is named inside one script over a single Redis
// server; Redis Cluster is not supported.
package coord
