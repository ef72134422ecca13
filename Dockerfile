# strands-runtime for Amazon Bedrock AgentCore: a static linux/arm64 binary on an empty base.
#
#   docker buildx build --platform linux/arm64 -t strands-runtime .
#
# The build stage runs on the build machine's own architecture and cross-compiles to
# aarch64-unknown-linux-musl with zig (scripts/build-arm64), so no emulation is needed.
# Without Docker, `scripts/build-arm64` builds the same binary and `scripts/arm64-smoke` runs it
# under qemu-user.

FROM --platform=$BUILDPLATFORM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv ca-certificates file \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build-arm64 \
 && cp target/arm64/aarch64-unknown-linux-musl/release/strands-runtime /strands-runtime

FROM scratch
# TLS roots for the AWS SDK (Bedrock, STS, Secrets Manager).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /strands-runtime /strands-runtime
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOST=0.0.0.0 \
    PORT=8080
# A non-root user (no passwd file is needed for a numeric id).
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/strands-runtime"]
