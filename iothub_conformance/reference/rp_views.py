"""The resource provider's representations in both dialects (docs: the rp__*.md pages; arm16: the ARM16 shapes)."""

from __future__ import annotations

from .import_export_jobs import Job, utc
from .resource_provider import ManagedHub
from .rp_requests import ENDPOINTS, HUB_TYPE, RIGHTS, SKU_TIERS, RpPolicy

# -- representations -------------------------------------------------------------------------------------------------

def rights_string(rights: frozenset[str]) -> str:
    """ARM16 AccessRights: "RegistryRead, RegistryWrite", in the enum's order."""
    return ", ".join(right for right in RIGHTS if right in rights)


def policy_json(policy: RpPolicy, dialect: str) -> dict:
    if dialect == "docs":  # rp__retrieve-security-metadata-of-an-iot-hub.md
        return {"name": policy.name, "primaryKey": policy.primary_key, "secondaryKey": policy.secondary_key,
                "permissions": [right for right in RIGHTS if right in policy.rights]}
    return {"keyName": policy.name, "primaryKey": policy.primary_key, "secondaryKey": policy.secondary_key,
            "rights": rights_string(policy.rights)}


def hub_json(hub: ManagedHub, dialect: str, state: str, keys: bool) -> dict:
    """A hub in the dialect's shape. `keys`: PUT responses carry the policies (the create page's example); GET and
    the lists carry null (rp__retrieve-metadata-of-an-iot-hub.md: "Security-related properties will be set to null")."""
    spec = hub.spec
    policies = [policy_json(policy, dialect) for policy in spec.policies] if keys else None
    sku = {"name": spec.sku, "tier": SKU_TIERS[spec.sku], "capacity": spec.capacity}
    if dialect == "docs":
        events = spec.endpoints["events"]
        return {
            "id": hub.resource_id, "name": hub.name, "type": HUB_TYPE, "location": spec.location, "tags": spec.tags,
            "resourceGroupName": hub.resource_group, "etag": hub.etag,
            "properties": {
                "state": 1, "provisioningState": state, "authorizationPolicies": policies, "hostName": hub.host_name,
                "eventHubEndpoints": {"events": {"messageRetentionInDays": events.retention_days,
                                                 "partitionCount": events.partition_count}},
                "cloudToDevice": spec.cloud_to_device,
            },
            "sku": sku,
        }
    return {
        "id": hub.resource_id, "name": hub.name, "type": HUB_TYPE, "location": spec.location, "tags": spec.tags,
        "subscriptionid": hub.subscription_id, "resourcegroup": hub.resource_group, "etag": hub.etag,
        "properties": {
            "authorizationPolicies": policies, "hostName": hub.host_name,
            "eventHubEndpoints": {name: _event_hub_json(hub, name) for name in ENDPOINTS},
            "cloudToDevice": spec.cloud_to_device, "provisioningState": state,
        },
        "sku": sku,
    }


def _event_hub_json(hub: ManagedHub, endpoint: str) -> dict:
    """ARM16 EventHubProperties. The path and endpoint values are the reference's invention: no page states them."""
    settings = hub.spec.endpoints[endpoint]
    path = hub.name.lower() if endpoint == "events" else f"{hub.name.lower()}-operationmonitoring"
    return {
        "retentionTimeInDays": settings.retention_days,
        "partitionCount": settings.partition_count,
        "partitionIds": [str(index) for index in range(settings.partition_count)],
        "path": path,
        "endpoint": f"sb://iothub-ns-{hub.name.lower()}.servicebus.windows.net/",
    }


def consumer_group_json(hub_id: str, endpoint: str, name: str) -> dict:
    """ARM16 EventHubConsumerGroupInfo."""
    return {"tags": {}, "id": f"{hub_id}/eventHubEndpoints/{endpoint}/ConsumerGroups/{name}", "name": name}


def job_json(job: Job) -> dict:
    """ARM16 JobResponse."""
    return {
        "jobId": job.job_id,
        "startTimeUtc": utc(job.started_at),
        "endTimeUtc": utc(job.ended_at),
        "type": job.type,
        "status": job.status,
        "failureReason": job.failure_reason,
        "statusMessage": None,
        "parentJobId": None,
    }


def skus_json() -> list[dict]:
    """ARM16 IotHubSkuDescription for every sku. The capacity numbers are the reference's choice (no page states them):
    F1 one unit; S1 and S2 up to 200; S3 up to 10."""
    maxima = {"F1": 1, "S1": 200, "S2": 200, "S3": 10}
    return [{
        "resourceType": HUB_TYPE,
        "sku": {"name": sku, "tier": tier},
        "capacity": {"minimum": 1, "maximum": maxima[sku], "default": 1,
                     "scaleType": "None" if sku == "F1" else "Manual"},
    } for sku, tier in SKU_TIERS.items()]


# The reference's quota metric names and daily message limits per unit: no page states them.
MESSAGES_PER_UNIT = {"F1": 8000, "S1": 400_000, "S2": 6_000_000, "S3": 300_000_000}


def quota_json(hub: ManagedHub, devices: int) -> list[dict]:
    """ARM16 IotHubQuotaMetricInfo."""
    return [
        {"Name": "TotalMessages", "CurrentValue": 0, "MaxValue": MESSAGES_PER_UNIT[hub.spec.sku] * hub.spec.capacity},
        {"Name": "TotalDeviceCount", "CurrentValue": devices, "MaxValue": hub.registry.max_devices},
    ]
