// SPDX-License-Identifier: Apache-2.0

import CBeaconZooKeeper

/// libzookeeper's return codes (`ZOO_ERRORS`), by name, and how each maps to a ``ZooKeeperError/Code``.
enum ReturnCode {
    static let ok = ZOK.rawValue
    static let noNode = ZNONODE.rawValue
    static let nodeExists = ZNODEEXISTS.rawValue
    static let notEmpty = ZNOTEMPTY.rawValue
    static let badVersion = ZBADVERSION.rawValue
    static let connectionLoss = ZCONNECTIONLOSS.rawValue
    static let operationTimeout = ZOPERATIONTIMEOUT.rawValue
    static let sessionExpired = ZSESSIONEXPIRED.rawValue
    static let sessionMoved = ZSESSIONMOVED.rawValue
    static let invalidState = ZINVALIDSTATE.rawValue
    static let closing = ZCLOSING.rawValue
    static let authFailed = ZAUTHFAILED.rawValue
    static let marshallingError = ZMARSHALLINGERROR.rawValue
    static let badArguments = ZBADARGUMENTS.rawValue
    /// Not a libzookeeper code: the calling task was cancelled before the answer came.
    static let cancelled: Int32 = -10_000
    /// Not a libzookeeper code: no answer came before the request's deadline (no server was connected).
    static let timedOut: Int32 = -10_001

    /// Whether a request that failed with this code may succeed if it is sent again once a server answers: the
    /// connection was lost or is being re-established, or the session is being replaced after it expired.
    static func isTransient(_ code: Int32) -> Bool {
        code == connectionLoss || code == operationTimeout || code == sessionExpired || code == sessionMoved
            || code == invalidState || code == timedOut
    }

    /// ZooKeeper's name of a code, such as `ZNONODE`.
    static func name(_ code: Int32) -> String {
        switch code {
        case ok: "ZOK"
        case ZSYSTEMERROR.rawValue: "ZSYSTEMERROR"
        case ZRUNTIMEINCONSISTENCY.rawValue: "ZRUNTIMEINCONSISTENCY"
        case ZDATAINCONSISTENCY.rawValue: "ZDATAINCONSISTENCY"
        case connectionLoss: "ZCONNECTIONLOSS"
        case marshallingError: "ZMARSHALLINGERROR"
        case ZUNIMPLEMENTED.rawValue: "ZUNIMPLEMENTED"
        case operationTimeout: "ZOPERATIONTIMEOUT"
        case badArguments: "ZBADARGUMENTS"
        case invalidState: "ZINVALIDSTATE"
        case ZNEWCONFIGNOQUORUM.rawValue: "ZNEWCONFIGNOQUORUM"
        case ZRECONFIGINPROGRESS.rawValue: "ZRECONFIGINPROGRESS"
        case ZSSLCONNECTIONERROR.rawValue: "ZSSLCONNECTIONERROR"
        case ZAPIERROR.rawValue: "ZAPIERROR"
        case noNode: "ZNONODE"
        case ZNOAUTH.rawValue: "ZNOAUTH"
        case badVersion: "ZBADVERSION"
        case ZNOCHILDRENFOREPHEMERALS.rawValue: "ZNOCHILDRENFOREPHEMERALS"
        case nodeExists: "ZNODEEXISTS"
        case notEmpty: "ZNOTEMPTY"
        case sessionExpired: "ZSESSIONEXPIRED"
        case ZINVALIDCALLBACK.rawValue: "ZINVALIDCALLBACK"
        case ZINVALIDACL.rawValue: "ZINVALIDACL"
        case authFailed: "ZAUTHFAILED"
        case closing: "ZCLOSING"
        case ZNOTHING.rawValue: "ZNOTHING"
        case sessionMoved: "ZSESSIONMOVED"
        case ZNOTREADONLY.rawValue: "ZNOTREADONLY"
        case ZEPHEMERALONLOCALSESSION.rawValue: "ZEPHEMERALONLOCALSESSION"
        case ZNOWATCHER.rawValue: "ZNOWATCHER"
        case ZRECONFIGDISABLED.rawValue: "ZRECONFIGDISABLED"
        case ZSESSIONCLOSEDREQUIRESASLAUTH.rawValue: "ZSESSIONCLOSEDREQUIRESASLAUTH"
        case ZTHROTTLEDOP.rawValue: "ZTHROTTLEDOP"
        case cancelled: "cancelled"
        case timedOut: "no answer before the deadline"
        default: "ZooKeeper error \(code)"
        }
    }

    /// The error for a code that is not transient (or that stayed so until the deadline).
    static func error(
        _ code: Int32,
        operation: String,
        path: String?,
        target: String,
        attempts: Int = 1
    ) -> ZooKeeperError {
        let (kind, message): (ZooKeeperError.Code, String) =
            switch code {
            case noNode: (.noNode, "the node does not exist (or, when creating, its parent does not)")
            case nodeExists: (.nodeExists, "a node already exists at this path")
            case notEmpty: (.notEmpty, "the node has children")
            case badVersion: (.badVersion, "the node's version is not the expected one")
            case ZNOCHILDRENFOREPHEMERALS.rawValue: (.noChildrenForEphemerals, "an ephemeral node cannot have children")
            case ZNOAUTH.rawValue: (.notAuthorized, "the node's ACL does not allow this client the operation")
            case authFailed: (.authenticationFailed, "the ensemble rejected the digest credentials")
            case badArguments: (.invalidArgument, "ZooKeeper refuses this path or argument")
            case ZINVALIDACL.rawValue: (.invalidArgument, "the ACL is not valid")
            case closing: (.closed, "the client is closed")
            case connectionLoss, operationTimeout, sessionExpired, sessionMoved, invalidState, timedOut:
                (.unavailable, "no server of the ensemble answered in time")
            default: (.server, "ZooKeeper answered with an error")
            }
        return ZooKeeperError(
            kind,
            message,
            operation: operation,
            path: path,
            target: target,
            returnCode: code == cancelled || code == timedOut ? nil : code,
            attempts: attempts
        )
    }
}
