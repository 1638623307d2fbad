package llbdefs

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layerFiles returns path -> mode of the files that the file op d writes,
// and fails the test on any action that is not a mkdir or mkfile owned by
// root and dated fileEpoch.
func layerFiles(t *testing.T, g graph, d digest.Digest) map[string]int32 {
	t.Helper()
	fop := g.ops[d].GetFile()
	require.NotNil(t, fop, "%q is a file op", g.names[d])
	files := map[string]int32{}
	for _, a := range fop.Actions {
		var owner *pb.ChownOpt
		var ts int64
		switch x := a.Action.(type) {
		case *pb.FileAction_Mkfile:
			files[x.Mkfile.Path] = x.Mkfile.Mode
			owner, ts = x.Mkfile.Owner, x.Mkfile.Timestamp
		case *pb.FileAction_Mkdir:
			assert.Equal(t, int32(0o755), x.Mkdir.Mode, x.Mkdir.Path)
			owner, ts = x.Mkdir.Owner, x.Mkdir.Timestamp
		default:
			t.Errorf("unexpected action %T in %q", x, g.names[d])
			continue
		}
		assert.Equal(t, "0:0", ownerString(owner))
		assert.Equal(t, int64(fileEpoch)*int64(time.Second), ts)
	}
	return files
}

// checkMergedConfigLayer checks that the image's result merges the package
// chain (holding the install exec) with a config layer built from scratch
// that does not depend on the install, and returns the config layer.
func checkMergedConfigLayer(t *testing.T, g graph, mergeName, configName, installName string) digest.Digest {
	t.Helper()
	require.Equal(t, mergeName, g.names[g.result])
	merge := g.ops[g.result]
	require.NotNil(t, merge.GetMerge())
	require.Len(t, merge.Inputs, 2)
	lower, upper := digest.Digest(merge.Inputs[0].Digest), digest.Digest(merge.Inputs[1].Digest)
	install, _ := g.named(t, installName)
	assert.Equal(t, configName, g.names[upper])
	assert.True(t, g.ancestors(lower)[install], "package chain holds the install")
	assert.False(t, g.ancestors(upper)[install], "config layer must not depend on the install")
	assert.Empty(t, g.ops[upper].Inputs, "config layer starts from scratch")
	return upper
}

// checkOnlyConfigChanges builds the image from fsys and from fsys with one
// file changed, for every file, and checks that only the vertices named in
// changes change.
func checkOnlyConfigChanges(t *testing.T, build func(fs.FS, Distro) graph, fsys fs.FS, d Distro, files []string, changes ...string) {
	t.Helper()
	wantChanged := map[string]bool{}
	for _, n := range changes {
		wantChanged[n] = true
	}
	for _, changed := range files {
		t.Run(changed, func(t *testing.T) {
			modified := copyFS(t, fsys)
			require.Contains(t, modified, changed)
			modified[changed].Data = append(modified[changed].Data, "\n# changed\n"...)
			before, after := build(fsys, d), build(modified, d)
			for _, v := range before.order {
				name := before.names[v]
				got, _ := after.named(t, name)
				if wantChanged[name] {
					assert.NotEqual(t, v, got, "%q must change with %s", name, changed)
				} else {
					assert.Equal(t, v, got, "%q must not change with %s", name, changed)
				}
			}
		})
	}
}

// TestPHPFPMConfig: what both PHP images rely on in the shared php-fpm
// configuration and health check.
func TestPHPFPMConfig(t *testing.T) {
	tests := []struct {
		file string
		want []string
		deny []string
	}{
		{
			file: "files/php/php-fpm.conf",
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
			file: "files/php/php-fpm-ping",
			want: []string{"#!/bin/sh\n", "set -eu", "SCRIPT_NAME=/fpm-ping", "cgi-fcgi -bind -connect", "*pong*) exit 0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			dt, err := wordpressFiles.ReadFile(tc.file)
			require.NoError(t, err)
			same, err := adminerFiles.ReadFile(tc.file)
			require.NoError(t, err)
			assert.Equal(t, dt, same, "both images embed the same file")
			text := string(dt)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, d := range tc.deny {
				assert.NotContains(t, text, d)
			}
		})
	}
	// The pool's port is the one the images expose and nginx dials.
	dt, err := wordpressFiles.ReadFile("files/php/php-fpm.conf")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(dt), "listen = "+strings.TrimSuffix(phpPort, "/tcp")))
}
