package llbdefs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPHPFPMConfig: what both PHP images rely on in the shared php-fpm
// configuration and health check.
func TestPHPFPMConfig(t *testing.T) {
	files := []fileWant{
		{
			name: "files/php/php-fpm.conf",
			file: "php/php-fpm.conf",
			want: []string{
				"error_log = /proc/self/fd/2",
				"daemonize = no",
				"user = www-data",
				"listen = 9000",
				"ping.path = /fpm-ping",
				"ping.response = pong",
				"clear_env = no",
				"php_admin_flag[display_errors] = off",
				"security.limit_extensions = .php",
			},
			deny: []string{"listen = /run", "listen = 127.0.0.1"},
		},
		{
			name: "files/php/php-fpm-ping",
			file: "php/php-fpm-ping",
			want: []string{"#!/bin/sh\n", "set -eu", "SCRIPT_NAME=/fpm-ping", "cgi-fcgi -bind -connect", "*pong*) exit 0"},
		},
	}
	checkFileTexts(t, "wordpress", files)
	for _, f := range files {
		dt, err := wordpressFiles.ReadFile("files/" + f.file)
		require.NoError(t, err)
		same, err := adminerFiles.ReadFile("files/" + f.file)
		require.NoError(t, err)
		assert.Equal(t, dt, same, "both images embed the same %s", f.file)
	}
	// The pool's port is the one the images expose and nginx dials.
	dt, err := wordpressFiles.ReadFile("files/php/php-fpm.conf")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(dt), "listen = "+strings.TrimSuffix(phpPort, "/tcp")))
}
