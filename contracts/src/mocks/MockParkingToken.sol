// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockParkingToken
/// @notice Test double of a token that, when parking is on, answers `transferFrom` with success but
/// only records the transfer as pending (as a token holding a transfer for approval might). The DvP
/// contract must not pay for units that did not arrive. Not for issuing.
contract MockParkingToken is ERC20 {
    bool private _parking;

    /// @notice Emitted when a transfer is parked instead of made.
    event TransferParked(address indexed from, address indexed to, uint256 value);

    /// @param supply Minted to the deployer.
    constructor(uint256 supply) ERC20("Parking", "PRK") {
        _mint(msg.sender, supply);
    }

    /// @notice Turns parking on or off (anyone: a test double).
    function setParking(bool parking) external {
        _parking = parking;
    }

    /// @notice ERC-20 transferFrom; while parking, spends the allowance and parks the transfer.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (!_parking) return super.transferFrom(from, to, value);
        _spendAllowance(from, _msgSender(), value);
        emit TransferParked(from, to, value);
        return true;
    }
}
