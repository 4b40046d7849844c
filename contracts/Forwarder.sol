// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IERC20Transfer {
    function transfer(address to, uint256 value) external returns (bool);
}

/// Pays out tokens it holds, the way an exchange's hot wallet or a smart-contract wallet does:
/// the Transfer event's `from` is this contract and the transaction's `to` is this contract, never
/// the recipient. SCENARIOS.md case 19: such a transfer must be detected like any other.
contract Forwarder {
    function forward(address token, address to, uint256 value) external {
        require(IERC20Transfer(token).transfer(to, value), "transfer failed");
    }

    /// Several payments in one transaction: each is its own log, told apart by its log index.
    function forwardMany(address token, address[] calldata to, uint256[] calldata values) external {
        require(to.length == values.length, "length");
        for (uint256 i = 0; i < to.length; i++) {
            require(IERC20Transfer(token).transfer(to[i], values[i]), "transfer failed");
        }
    }
}
