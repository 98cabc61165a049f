// Package testplugins holds plugin binaries that the tests build and run
// through the real process boundary: testkit (a plugin whose actions
// exercise every path of the protocol), rawproto (written against the
// protocol, not the sdk: it says what the sdk never would, and speaks
// protocol version 1 when asked) and broken ones (a bad definition,
// stdout before the handshake, no handshake at all, envecho: dying at start
// with its environment on stderr) and traced (spans of its own, exported
// over OTLP).
package testplugins
