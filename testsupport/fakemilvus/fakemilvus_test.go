package fakemilvus_test

import (
	"context"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/dbhealth/database-service/testsupport/fakemilvus"
)

func dial(t *testing.T, s *fakemilvus.Server) milvuspb.MilvusServiceClient {
	t.Helper()
	cc, err := grpc.Dial(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return milvuspb.NewMilvusServiceClient(cc)
}

func TestServesHealthAndRejectsTheRest(t *testing.T) {
	s := fakemilvus.New(t)
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	s.SetQuotaStates(milvuspb.QuotaState_DenyToWrite)
	h, err := c.CheckHealth(ctx, &milvuspb.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !h.GetIsHealthy() || len(h.GetQuotaStates()) != 1 || len(h.GetReasons()) != 1 {
		t.Fatalf("CheckHealth: %v", h)
	}
	if _, err := c.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("ShowCollections: %v, want Unimplemented", err)
	}
	if s.Calls("CheckHealth") != 1 || s.Calls("ShowCollections") != 1 {
		t.Fatalf("calls: %d %d", s.Calls("CheckHealth"), s.Calls("ShowCollections"))
	}
}

func TestAuthMetadata(t *testing.T) {
	s := fakemilvus.New(t)
	s.RequireAuth("root", "Milvus")
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.GetVersion(ctx, &milvuspb.GetVersionRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no metadata: %v", err)
	}
	// base64("root:Milvus"), as the SDK sends it.
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "cm9vdDpNaWx2dXM=")
	v, err := c.GetVersion(authed, &milvuspb.GetVersionRequest{})
	if err != nil || v.GetVersion() != fakemilvus.DefaultVersion {
		t.Fatalf("with metadata: %v %v", v, err)
	}
}

func TestStopRestartSamePort(t *testing.T) {
	s := fakemilvus.New(t)
	port := s.Port()
	s.Stop()
	s.Stop()
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.GetVersion(ctx, &milvuspb.GetVersionRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("stopped: %v, want Unavailable", err)
	}
	s.Restart()
	if s.Port() != port {
		t.Fatalf("port %d after restart, want %d", s.Port(), port)
	}
	if _, err := c.GetVersion(ctx, &milvuspb.GetVersionRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("restarted: %v", err)
	}
}
