"""Microsoft.Network error codes, as the network resource provider spells them (ARM envelope)."""

from __future__ import annotations

from ..core import ApiError, arm_location_conflict, arm_resource_not_found

VNET_TYPE = "Microsoft.Network/virtualNetworks"


def vnet_not_found(name: str, rg: str) -> ApiError:
    return arm_resource_not_found(VNET_TYPE, name, rg)


def subnet_not_found(subnet_id: str) -> ApiError:
    return ApiError(404, "NotFound", f"Resource {subnet_id} not found.")


def invalid_name(name: str) -> ApiError:
    return ApiError(
        400,
        "InvalidResourceName",
        f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word "
        "character, and it must end with a word character or with '_'. The name may contain word characters or "
        "'.', '-', '_'.",
    )


location_conflict = arm_location_conflict  # ARM's own, as every provider answers it


def invalid_request(message: str) -> ApiError:
    return ApiError(400, "InvalidRequestFormat", f"Cannot parse the request. {message}".strip())


def prefix_format(prefix: str, resource_id: str) -> ApiError:
    return ApiError(
        400,
        "InvalidAddressPrefixFormat",
        f"Address prefix {prefix} of resource {resource_id} is not formatted correctly. It should follow CIDR "
        "notation, for example 10.0.0.0/24.",
    )


def prefix_not_network(prefix: str, resource_id: str) -> ApiError:
    return ApiError(
        400,
        "NetcfgInvalidIPAddressPrefix",
        f"Value {prefix} of resource {resource_id} is not a valid IP address prefix: "
        "the address has bits set beyond the prefix length.",
    )


def address_spaces_overlap(vnet: str, first: str, second: str) -> ApiError:
    return ApiError(
        400,
        "VnetAddressSpacesOverlap",
        f"Cannot create or update virtual network {vnet} since it has overlapping address spaces {first} and {second}.",
    )


def subnet_prefix_missing(subnet_id: str) -> ApiError:
    return ApiError(
        400, "NoAddressPrefixOrPoolProvided", f"No address prefix or IPAM pool is provided for the subnet {subnet_id}."
    )


def subnet_outside_vnet(subnet: str, vnet: str) -> ApiError:
    return ApiError(
        400,
        "NetcfgSubnetRangeOutsideVnet",
        f"Subnet '{subnet}' is not valid because its IP address range is outside the IP address range of "
        f"virtual network '{vnet}'.",
    )


def subnets_overlap(subnet: str, other: str, vnet: str) -> ApiError:
    return ApiError(
        400,
        "NetcfgSubnetRangesOverlap",
        f"Subnet '{subnet}' is not valid because its IP address range overlaps with that of an existing subnet "
        f"'{other}' in virtual network '{vnet}'.",
    )


def duplicate_subnet(vnet_id: str, name: str) -> ApiError:
    return ApiError(
        400, "DuplicateResourceName", f"Resource {vnet_id} has two child resources with the same name ({name})."
    )


def precondition_failed() -> ApiError:
    return ApiError(
        412,
        "PreconditionFailed",
        "Precondition failed: the resource's etag does not match the If-Match header of the request.",
    )


# -- network security groups ---------------------------------------------------------------------

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"


def nsg_not_found(name: str, rg: str) -> ApiError:
    return arm_resource_not_found(NSG_TYPE, name, rg)


def invalid_reference(target: str, referrer: str) -> ApiError:
    return ApiError(400, "InvalidResourceReference",
                    f"Resource {target} referenced by resource {referrer} was not found. Please make sure that "
                    "the referenced resource exists, and that both resources are in the same region.")


def nsg_in_use(nsg_id: str, users: list[str]) -> ApiError:
    return ApiError(400, "InUseNetworkSecurityGroupCannotBeDeleted",
                    f"Network security group {nsg_id} cannot be deleted because it is in use by the following "
                    f"resources: {', '.join(users)}. In order to delete the Network security group, remove the "
                    "association with the resource(s).")


def rule_invalid(rule_id: str, field: str, value: object, allowed: str) -> ApiError:
    return ApiError(400, f"SecurityRuleInvalid{field[0].upper()}{field[1:]}",
                    f"Security rule {rule_id} has invalid {field} {value!r}. Allowed: {allowed}.")


def rule_priority_taken(rule_id: str, priority: int, direction: str, other: str) -> ApiError:
    return ApiError(400, "SecurityRuleParameterPriorityAlreadyTaken",
                    f"Security rule {rule_id} has the same priority {priority} in direction {direction} as "
                    f"security rule {other}.")
