// Package testplugins holds plugin binaries that the tests build and run
// through the real process boundary: testkit (a plugin whose actions
// exercise every path of the protocol) and broken ones (a bad definition,
// stdout before the handshake, no handshake at all, envecho: dying at start
// with its environment on stderr).
package testplugins
