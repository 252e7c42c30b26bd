// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl

extension HTTPError {
    /// The error for a transfer that libcurl finished with a code other than `CURLE_OK`.
    ///
    /// - Parameters:
    ///   - curlCode: The code libcurl reported.
    ///   - target: The redacted URL.
    ///   - detail: libcurl's error buffer for the transfer, if it wrote one.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    init(curlCode: CURLcode, target: String, detail: String?, fileID: String = #fileID, sourceLine: Int = #line) {
        self.init(
            Self.code(for: curlCode),
            String(cString: curl_easy_strerror(curlCode)),
            target: target,
            detail: detail,
            curlCode: Int(curlCode.rawValue),
            curlCodeName: Self.name(of: curlCode),
            fileID: fileID,
            sourceLine: sourceLine
        )
    }

    /// The error for a transfer that closing the client aborted or refused.
    ///
    /// - Parameter target: The redacted URL.
    /// - Returns: An error with code ``Code/closed``.
    static func closed(target: String) -> HTTPError {
        HTTPError(.closed, "the HTTP client was closed", target: target)
    }

    /// The message of ``ioThreadShutDown(target:)``.
    private static let ioThreadShutDownMessage = "the shared I/O thread (HTTPIOThread) was shut down"

    /// The error for a transfer that shutting down the client's shared I/O thread aborted or refused.
    ///
    /// - Parameter target: The redacted URL.
    /// - Returns: An error with code ``Code/closed``.
    static func ioThreadShutDown(target: String) -> HTTPError {
        HTTPError(.closed, Self.ioThreadShutDownMessage, target: target)
    }

    /// Whether the client's shared I/O thread was shut down (code ``Code/closed``, from
    /// ``HTTPIOThread/shutdown()``), rather than the client closed.
    package var isIOThreadShutDown: Bool {
        self.code == .closed && self.message == Self.ioThreadShutDownMessage
    }

    /// The coarse code of a `CURLcode`.
    private static func code(for curlCode: CURLcode) -> Code {
        switch curlCode {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .connectFailed
        case CURLE_OPERATION_TIMEDOUT:
            .timedOut
        case CURLE_ABORTED_BY_CALLBACK:
            .cancelled
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
            CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            .connectionLost
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_NOT_BUILT_IN:
            .invalidRequest
        default:
            .other
        }
    }

    /// The C name of a `CURLcode`, such as `CURLE_COULDNT_CONNECT`.
    private static func name(of curlCode: CURLcode) -> String {
        switch curlCode {
        case CURLE_OK: "CURLE_OK"
        case CURLE_UNSUPPORTED_PROTOCOL: "CURLE_UNSUPPORTED_PROTOCOL"
        case CURLE_URL_MALFORMAT: "CURLE_URL_MALFORMAT"
        case CURLE_NOT_BUILT_IN: "CURLE_NOT_BUILT_IN"
        case CURLE_COULDNT_RESOLVE_PROXY: "CURLE_COULDNT_RESOLVE_PROXY"
        case CURLE_COULDNT_RESOLVE_HOST: "CURLE_COULDNT_RESOLVE_HOST"
        case CURLE_COULDNT_CONNECT: "CURLE_COULDNT_CONNECT"
        case CURLE_WEIRD_SERVER_REPLY: "CURLE_WEIRD_SERVER_REPLY"
        case CURLE_HTTP2: "CURLE_HTTP2"
        case CURLE_PARTIAL_FILE: "CURLE_PARTIAL_FILE"
        case CURLE_WRITE_ERROR: "CURLE_WRITE_ERROR"
        case CURLE_READ_ERROR: "CURLE_READ_ERROR"
        case CURLE_OUT_OF_MEMORY: "CURLE_OUT_OF_MEMORY"
        case CURLE_OPERATION_TIMEDOUT: "CURLE_OPERATION_TIMEDOUT"
        case CURLE_BAD_FUNCTION_ARGUMENT: "CURLE_BAD_FUNCTION_ARGUMENT"
        case CURLE_ABORTED_BY_CALLBACK: "CURLE_ABORTED_BY_CALLBACK"
        case CURLE_TOO_MANY_REDIRECTS: "CURLE_TOO_MANY_REDIRECTS"
        case CURLE_GOT_NOTHING: "CURLE_GOT_NOTHING"
        case CURLE_SSL_ENGINE_NOTFOUND: "CURLE_SSL_ENGINE_NOTFOUND"
        case CURLE_SSL_ENGINE_SETFAILED: "CURLE_SSL_ENGINE_SETFAILED"
        case CURLE_SEND_ERROR: "CURLE_SEND_ERROR"
        case CURLE_RECV_ERROR: "CURLE_RECV_ERROR"
        case CURLE_SSL_CERTPROBLEM: "CURLE_SSL_CERTPROBLEM"
        case CURLE_SSL_CIPHER: "CURLE_SSL_CIPHER"
        case CURLE_PEER_FAILED_VERIFICATION: "CURLE_PEER_FAILED_VERIFICATION"
        case CURLE_SSL_CONNECT_ERROR: "CURLE_SSL_CONNECT_ERROR"
        case CURLE_SSL_CACERT_BADFILE: "CURLE_SSL_CACERT_BADFILE"
        case CURLE_SSL_SHUTDOWN_FAILED: "CURLE_SSL_SHUTDOWN_FAILED"
        case CURLE_SSL_CRL_BADFILE: "CURLE_SSL_CRL_BADFILE"
        case CURLE_SSL_ISSUER_ERROR: "CURLE_SSL_ISSUER_ERROR"
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH: "CURLE_SSL_PINNEDPUBKEYNOTMATCH"
        case CURLE_SSL_INVALIDCERTSTATUS: "CURLE_SSL_INVALIDCERTSTATUS"
        case CURLE_SSL_CLIENTCERT: "CURLE_SSL_CLIENTCERT"
        case CURLE_USE_SSL_FAILED: "CURLE_USE_SSL_FAILED"
        case CURLE_HTTP2_STREAM: "CURLE_HTTP2_STREAM"
        case CURLE_AGAIN: "CURLE_AGAIN"
        default: "CURLcode \(curlCode.rawValue)"
        }
    }
}
