// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @dev What the adapter reads of its token.
interface ITokenRules {
    function canTransfer(address from, address to, uint256 amount) external view returns (bool);
}

/// @title ERC3643Compliance
/// @notice ERC-3643's compliance (T-REX 4.1.x `IModularCompliance`, and the legacy `ICompliance`'s
/// `isTokenBound`) over a sandbox security token, whose rulebook is built in: bound to one token for
/// good, no modules, and `canTransfer` answers with the token's own rulebook (every rule, identity
/// ones included, where a T-REX compliance checks only its modules). The token never calls the
/// state hooks (`transferred`, `created`, `destroyed`), and the rulebook has no modules to manage:
/// those functions refuse with `ComplianceIsBuiltIn`.
contract ERC3643Compliance {
    /// @notice T-REX events; only `TokenBound` is emitted, once, at construction.
    event ModuleAdded(address indexed module);
    event ModuleInteraction(address indexed target, bytes4 selector);
    event ModuleRemoved(address indexed module);
    event TokenBound(address token);
    event TokenUnbound(address token);

    /// @notice The rulebook is built into token `token`; nothing can be changed here.
    error ComplianceIsBuiltIn(address token);

    address private immutable _token;

    /// @param token_ The security token this compliance answers for.
    constructor(address token_) {
        _token = token_;
        emit TokenBound(token_);
    }

    /// @notice ERC-3643: the token bound to this compliance.
    function getTokenBound() external view returns (address) {
        return _token;
    }

    /// @notice ERC-3643 (legacy `ICompliance`): whether `token` is the token bound.
    function isTokenBound(address token) external view returns (bool) {
        return token == _token;
    }

    /// @notice ERC-3643: whether `module` is bound: never (the rulebook is built into the token).
    function isModuleBound(address) external pure returns (bool) {
        return false;
    }

    /// @notice ERC-3643: the compliance modules: none.
    function getModules() external pure returns (address[] memory) {
        return new address[](0);
    }

    /// @notice ERC-3643: whether the token's rulebook lets `amount` move from `from` to `to` now.
    function canTransfer(address from, address to, uint256 amount) external view returns (bool) {
        return ITokenRules(_token).canTransfer(from, to, amount);
    }

    /// @notice Refused: the token is bound at construction, for good.
    function bindToken(address) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the token is bound at construction, for good.
    function unbindToken(address) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the rulebook has no modules.
    function addModule(address) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the rulebook has no modules.
    function removeModule(address) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the rulebook has no modules.
    function callModuleFunction(bytes calldata, address) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the token keeps its rules' state itself.
    function transferred(address, address, uint256) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the token keeps its rules' state itself.
    function created(address, uint256) external view {
        revert ComplianceIsBuiltIn(_token);
    }

    /// @notice Refused: the token keeps its rules' state itself.
    function destroyed(address, uint256) external view {
        revert ComplianceIsBuiltIn(_token);
    }
}
