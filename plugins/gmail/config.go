package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strconv"
	"strings"

	"github.com/toolhost/toolhost/sdk"
)

// Configuration keys.
const (
	keyEmailAddress = "gmailEmailAddress"
	keyAppPassword  = "gmailAppPassword"
	keySenderName   = "senderName"
	keySMTPHost     = "smtpHost"
	keySMTPPort     = "smtpPort"
	keySMTPTLS      = "smtpTLS"
	keyIMAPHost     = "imapHost"
	keyIMAPPort     = "imapPort"
	keyRootCAFile   = "tlsRootCAFile"
)

// Defaults: Gmail's own servers.
const (
	defaultSMTPHost        = "smtp.gmail.com"
	defaultSMTPPort        = 587
	defaultSMTPImplicitTLS = 465
	defaultIMAPHost        = "imap.gmail.com"
	defaultIMAPPort        = 993
)

// appPasswordHint ends every login failure message.
const appPasswordHint = "Gmail needs an app password: https://myaccount.google.com/apppasswords, 2-Step Verification must be on"

// smtpTLSMode says how the SMTP connection is protected.
type smtpTLSMode string

const (
	tlsStartTLS smtpTLSMode = "starttls" // plain connect, then STARTTLS (required)
	tlsImplicit smtpTLSMode = "tls"      // TLS from the first byte (port 465 style)
	tlsNone     smtpTLSMode = "none"     // no TLS: loopback hosts only
)

var configParams = []sdk.ConfigParam{
	{Key: keyEmailAddress, Title: "Gmail email address", Required: true,
		Description: "The Gmail address to send from and to log in with, e.g. me@gmail.com."},
	{Key: keyAppPassword, Title: "Gmail app password", Required: true, Secret: true,
		Description: "A 16-character app password from https://myaccount.google.com/apppasswords (needs 2-Step Verification). Not the account password."},
	{Key: keySenderName, Title: "Sender name",
		Description: "Display name shown in the From header, e.g. \"Assistant\". Empty: the address alone."},
	{Key: keySMTPHost, Title: "SMTP host",
		Description: "SMTP server. Default: smtp.gmail.com."},
	{Key: keySMTPPort, Title: "SMTP port",
		Description: "SMTP server port. Default: 587, or 465 when smtpTLS is \"tls\"."},
	{Key: keySMTPTLS, Title: "SMTP TLS mode",
		Description: "\"starttls\" (default: STARTTLS is required), \"tls\" (implicit TLS, port 465 style) or \"none\" (only for a loopback host: localhost, 127.0.0.1 or ::1)."},
	{Key: keyIMAPHost, Title: "IMAP host",
		Description: "IMAP server, always reached over implicit TLS. Default: imap.gmail.com."},
	{Key: keyIMAPPort, Title: "IMAP port",
		Description: "IMAP server port. Default: 993."},
	{Key: keyRootCAFile, Title: "TLS root CA file",
		Description: "Path to a PEM bundle of CA certificates to verify the servers' certificates with, instead of the system's. Certificates are always verified."},
}

// settings is a checked configuration with defaults applied.
type settings struct {
	address    string // bare address, e.g. me@gmail.com
	password   string
	senderName string
	smtpHost   string
	smtpPort   int
	smtpTLS    smtpTLSMode
	imapHost   string
	imapPort   int
	rootCAFile string
}

// checkConfig is the plugin's CheckConfig hook.
func checkConfig(c sdk.Config) error {
	_, err := loadSettings(c)
	return err
}

// settingsFrom loads the run's configuration, failing the run as
// misconfigured when it is not usable.
func settingsFrom(ctx context.Context) (*settings, error) {
	// The sdk scrubs the password as configured; scrub the form sent too.
	sdk.AddSecret(ctx, normalizeAppPassword(sdk.ConfigFrom(ctx).Get(keyAppPassword)))
	s, err := loadSettings(sdk.ConfigFrom(ctx))
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeMisconfigured, Message: "gmail configuration: " + err.Error()}
	}
	return s, nil
}

// loadSettings applies defaults and checks every value, naming each
// problem.
func loadSettings(c sdk.Config) (*settings, error) {
	var errs []error
	s := &settings{
		password:   normalizeAppPassword(c.Get(keyAppPassword)),
		senderName: strings.TrimSpace(c.Get(keySenderName)),
		smtpHost:   orDefault(c.Get(keySMTPHost), defaultSMTPHost),
		smtpTLS:    smtpTLSMode(strings.ToLower(orDefault(c.Get(keySMTPTLS), string(tlsStartTLS)))),
		imapHost:   orDefault(c.Get(keyIMAPHost), defaultIMAPHost),
		rootCAFile: strings.TrimSpace(c.Get(keyRootCAFile)),
	}
	addr, err := mail.ParseAddress(strings.TrimSpace(c.Get(keyEmailAddress)))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %q is not a valid email address", keyEmailAddress, c.Get(keyEmailAddress)))
	} else {
		s.address = addr.Address
	}
	if s.password == "" {
		errs = append(errs, fmt.Errorf("%s: required value is missing", keyAppPassword))
	}
	if strings.ContainsAny(s.senderName, "\r\n") {
		errs = append(errs, fmt.Errorf("%s: must be a single line", keySenderName))
	}
	switch s.smtpTLS {
	case tlsStartTLS, tlsImplicit:
	case tlsNone:
		if !isLoopbackName(s.smtpHost) {
			errs = append(errs, fmt.Errorf("%s: \"none\" sends the password unencrypted and is allowed only for a loopback host (localhost, 127.0.0.1 or ::1), not %q", keySMTPTLS, s.smtpHost))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: %q must be \"starttls\", \"tls\" or \"none\"", keySMTPTLS, c.Get(keySMTPTLS)))
	}
	smtpDefault := defaultSMTPPort
	if s.smtpTLS == tlsImplicit {
		smtpDefault = defaultSMTPImplicitTLS
	}
	if s.smtpPort, err = parsePort(keySMTPPort, c.Get(keySMTPPort), smtpDefault); err != nil {
		errs = append(errs, err)
	}
	if s.imapPort, err = parsePort(keyIMAPPort, c.Get(keyIMAPPort), defaultIMAPPort); err != nil {
		errs = append(errs, err)
	}
	if s.rootCAFile != "" {
		if _, err := loadRootCAs(s.rootCAFile); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", keyRootCAFile, err))
		}
	}
	if len(errs) > 0 {
		return nil, joinProblems(errs)
	}
	return s, nil
}

// isLoopbackName reports whether host is one of the names Go's net/smtp
// trusts with plain-text AUTH on an unencrypted connection.
func isLoopbackName(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// tlsConfig returns the TLS settings for connecting to host: certificates
// are always verified, against tlsRootCAFile when it is set.
func (s *settings) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.rootCAFile != "" {
		pool, err := loadRootCAs(s.rootCAFile)
		if err != nil {
			return nil, &sdk.Error{Code: sdk.CodeMisconfigured, Message: fmt.Sprintf("gmail configuration: %s: %v", keyRootCAFile, err)}
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func loadRootCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

func parsePort(key, value string, def int) (int, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return def, nil
	}
	p, err := strconv.Atoi(value)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s: %q is not a port number (1-65535)", key, value)
	}
	return p, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

// joinProblems joins problems into one error on one line.
func joinProblems(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
