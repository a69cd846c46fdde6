# syntax=docker/dockerfile:1
# Build: docker build -t database-service:latest .
# Run:   docker run -p 8089:8089 --env-file config/production.env database-service:latest

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/database-service ./cmd/database-service

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/database-service /app/database-service
COPY config/ /app/config/
ENV APP_ENV=production \
    DB_SERVICE_PORT=8089 \
    DATA_DIR=/tmp/database-service
EXPOSE 8089
USER nonroot:nonroot
ENTRYPOINT ["/app/database-service"]
