package fakenacos

import (
	"encoding/json"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"google.golang.org/protobuf/types/known/anypb"
)

// Result and error codes of the Nacos remoting protocol.
const (
	codeSuccess       = 200
	codeFail          = 500
	errNoRight        = 403 // auth rejected
	errUnregistered   = 301 // connection did not do ConnectionSetupRequest
	errConfigNotFound = 300
	errNotImplemented = 501
)

// response is the common part of every Nacos response body.
type response struct {
	ResultCode int    `json:"resultCode"`
	ErrorCode  int    `json:"errorCode"`
	Success    bool   `json:"success"`
	Message    string `json:"message,omitempty"`
	RequestID  string `json:"requestId,omitempty"`
}

func ok() response { return response{ResultCode: codeSuccess, Success: true} }

func fail(code int, msg string) response {
	return response{ResultCode: codeFail, ErrorCode: code, Success: false, Message: msg}
}

type serverCheckResponse struct {
	response
	ConnectionID string `json:"connectionId"`
}

type serviceInfoResponse struct {
	response
	ServiceInfo model.Service `json:"serviceInfo"`
}

type serviceListResponse struct {
	response
	Count        int      `json:"count"`
	ServiceNames []string `json:"serviceNames"`
}

type configQueryResponse struct {
	response
	Content          string `json:"content"`
	EncryptedDataKey string `json:"encryptedDataKey"`
	ContentType      string `json:"contentType"`
	Md5              string `json:"md5"`
	LastModified     int64  `json:"lastModified"`
	IsBeta           bool   `json:"isBeta"`
	Tag              bool   `json:"tag"`
}

type batchListenResponse struct {
	response
	ChangedConfigs []model.ConfigContext `json:"changedConfigs"`
}

// Request bodies (only the fields the fake reads).

type namingRequest struct {
	RequestID   string `json:"requestId"`
	Namespace   string `json:"namespace"`
	ServiceName string `json:"serviceName"`
	GroupName   string `json:"groupName"`
}

type instanceRequest struct {
	namingRequest
	Type      string           `json:"type"`
	Instance  model.Instance   `json:"instance"`
	Instances []model.Instance `json:"instances"`
}

type subscribeRequest struct {
	namingRequest
	Subscribe bool   `json:"subscribe"`
	Clusters  string `json:"clusters"`
}

type serviceQueryRequest struct {
	namingRequest
	Cluster     string `json:"cluster"`
	HealthyOnly bool   `json:"healthyOnly"`
}

type serviceListRequest struct {
	namingRequest
	PageNo   int `json:"pageNo"`
	PageSize int `json:"pageSize"`
}

type configRequest struct {
	RequestID string `json:"requestId"`
	Group     string `json:"group"`
	DataID    string `json:"dataId"`
	Tenant    string `json:"tenant"`
}

type configPublishRequest struct {
	configRequest
	Content string `json:"content"`
	CasMd5  string `json:"casMd5"`
}

type batchListenRequest struct {
	configRequest
	Listen   bool                        `json:"listen"`
	Contexts []model.ConfigListenContext `json:"configListenContexts"`
}

// Server pushes.

type notifySubscriberRequest struct {
	RequestID   string        `json:"requestId"`
	Namespace   string        `json:"namespace"`
	ServiceName string        `json:"serviceName"`
	GroupName   string        `json:"groupName"`
	Module      string        `json:"module"`
	ServiceInfo model.Service `json:"serviceInfo"`
}

type configChangeNotifyRequest struct {
	RequestID string `json:"requestId"`
	Group     string `json:"group"`
	DataID    string `json:"dataId"`
	Tenant    string `json:"tenant"`
	Module    string `json:"module"`
}

// payload wraps a JSON body under its Java class name.
func payload(typ string, body any) *pb.Payload {
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{}`)
	}
	return &pb.Payload{
		Metadata: &pb.Metadata{Type: typ, ClientIp: "127.0.0.1"},
		Body:     &anypb.Any{Value: b},
	}
}

// responseType maps a request class to the class of its response.
var responseType = map[string]string{
	"ServerCheckRequest":       "ServerCheckResponse",
	"HealthCheckRequest":       "HealthCheckResponse",
	"InstanceRequest":          "InstanceResponse",
	"BatchInstanceRequest":     "BatchInstanceResponse",
	"SubscribeServiceRequest":  "SubscribeServiceResponse",
	"ServiceQueryRequest":      "QueryServiceResponse",
	"ServiceListRequest":       "ServiceListResponse",
	"ConfigQueryRequest":       "ConfigQueryResponse",
	"ConfigPublishRequest":     "ConfigPublishResponse",
	"ConfigRemoveRequest":      "ConfigRemoveResponse",
	"ConfigBatchListenRequest": "ConfigChangeBatchListenResponse",
}
