package probes

import (
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// milvusRPCError wraps the error of a Milvus call (op) and classifies what
// its gRPC status code tells; dial and network errors are left to Classify.
func milvusRPCError(op string, err error) error {
	wrapped := fmt.Errorf("milvus %s: %w", op, err)
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return Fail(ErrKindAuth, wrapped)
	case codes.DeadlineExceeded, codes.Canceled:
		return Fail(ErrKindTimeout, wrapped)
	case codes.Unimplemented, codes.Internal, codes.DataLoss:
		// Unimplemented: something that speaks gRPC but is no Milvus.
		return Fail(ErrKindProtocol, wrapped)
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		// "connection refused" and the like stay what Classify finds.
		if k := Classify(err); k != ErrKindUnknown {
			return Fail(k, wrapped)
		}
		return Fail(ErrKindUnavailable, wrapped)
	}
	return wrapped
}

// milvusOptionalAnswer judges the outcome of a call (op) a server may not
// implement: answered is false when it does not (Unimplemented) or the call
// failed, err is the classified failure.
func milvusOptionalAnswer(op string, err error, st *commonpb.Status) (answered bool, _ error) {
	switch {
	case status.Code(err) == codes.Unimplemented:
		return false, nil
	case err != nil:
		return false, milvusRPCError(op, err)
	case !milvusStatusOK(st):
		return false, milvusStatusError(op, st)
	}
	return true, nil
}

// Milvus status codes (milvus merr) a probe distinguishes.
const (
	milvusCodeServiceNotReady     = 1
	milvusCodeServiceUnavailable  = 2
	milvusCodeNotAuthenticated    = 1400
	milvusCodePrivilegeNotAllowed = 1401
	milvusCodeNeedAuthenticate    = 1800
)

// milvusStatusOK reports whether a Milvus answer's status is a success.
func milvusStatusOK(s *commonpb.Status) bool {
	return s.GetErrorCode() == commonpb.ErrorCode_Success && s.GetCode() == 0
}

// milvusStatusError turns a failed status in a Milvus answer into a
// classified error.
func milvusStatusError(op string, s *commonpb.Status) error {
	err := fmt.Errorf("milvus %s: status %s (code %d): %s", op, s.GetErrorCode(), s.GetCode(), s.GetReason())
	switch {
	case s.GetErrorCode() == commonpb.ErrorCode_PermissionDenied,
		s.GetCode() == milvusCodeNotAuthenticated,
		s.GetCode() == milvusCodePrivilegeNotAllowed,
		s.GetCode() == milvusCodeNeedAuthenticate:
		return Fail(ErrKindAuth, err)
	case s.GetErrorCode() == commonpb.ErrorCode_NotReadyServe,
		s.GetErrorCode() == commonpb.ErrorCode_NotReadyCoordActivating,
		s.GetCode() == milvusCodeServiceNotReady,
		s.GetCode() == milvusCodeServiceUnavailable:
		return Fail(ErrKindUnavailable, err)
	}
	return Fail(ErrKindProtocol, err)
}
