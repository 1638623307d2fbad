// Command static-server serves a directory of static files over HTTP: the
// Inception stack's static site, which nginx publishes at /site/ with the
// prefix stripped (proxy_pass http://static:8080/;). The site uses relative
// links only, so the same files work at / and at /site/.
//
// Standard library only, and no newer than Go 1.19 (Debian bookworm's
// golang-go builds it). With -healthcheck it is its own health check: GET /
// on 127.0.0.1 and exit 0 or 1, so the image needs no curl and no shell.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	root := flag.String("root", "/srv/site", "directory to serve")
	addr := flag.String("addr", ":8080", "address to listen on")
	health := flag.Bool("healthcheck", false, "GET / from the server on -addr's port at 127.0.0.1, exit 0 on 200, else 1")
	flag.Parse()
	if *health {
		if err := healthcheck(*addr); err != nil {
			fmt.Fprintln(os.Stderr, "static-server: healthcheck:", err)
			os.Exit(1)
		}
		return
	}

	srv := &http.Server{
		Addr:              *addr,
		Handler:           handler(*root),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		// Finish the requests in flight, then exit 0: a stop is not a crash.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Printf("static-server: shutdown: %v", err)
		}
	}()
	log.Printf("static-server: serving %s on %s", *root, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("static-server: %v", err)
	}
	<-done
}

// handler serves the files under root, for GET and HEAD only.
func handler(root string) http.Handler {
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// healthcheck asks the server listening on addr's port for its home page.
func healthcheck(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	// No proxy from the environment: this request never leaves the host.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /: %s", resp.Status)
	}
	return nil
}
