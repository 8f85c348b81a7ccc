//! Azure RBAC scopes: `/`, `/providers/Microsoft.Management/managementGroups/<id>`,
//! `/subscriptions/<id>`, `…/resourceGroups/<name>`, and resources under either.

/// A parsed scope. Ids and names are lower-cased (Azure compares them case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Root,
    ManagementGroup(String),
    Subscription(String),
    ResourceGroup {
        subscription: String,
        group: String,
    },
    /// A resource (or a subscription-level or tenant-level provider path). `path` is the whole
    /// lower-cased scope.
    Resource {
        subscription: Option<String>,
        group: Option<String>,
        path: String,
        /// `microsoft.compute/virtualmachines`, `microsoft.managedidentity/userassignedidentities`…
        resource_type: String,
    },
}

impl Scope {
    /// Trims trailing slashes (keeping the root `/`).
    pub(crate) fn normalise(scope: &str) -> String {
        let trimmed = scope.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            "/".to_string()
        } else {
            trimmed.to_string()
        }
    }

    pub(crate) fn parse(scope: &str) -> Scope {
        let lower = Scope::normalise(scope).to_ascii_lowercase();
        let segments: Vec<&str> = lower.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Scope::Root,
            ["providers", "microsoft.management", "managementgroups", id] => {
                Scope::ManagementGroup((*id).to_string())
            }
            ["subscriptions", sub] => Scope::Subscription((*sub).to_string()),
            ["subscriptions", sub, "resourcegroups", group] => Scope::ResourceGroup {
                subscription: (*sub).to_string(),
                group: (*group).to_string(),
            },
            ["subscriptions", sub, "resourcegroups", group, ..] => Scope::Resource {
                subscription: Some((*sub).to_string()),
                group: Some((*group).to_string()),
                resource_type: resource_type_of(&segments),
                path: lower.clone(),
            },
            ["subscriptions", sub, ..] => Scope::Resource {
                subscription: Some((*sub).to_string()),
                group: None,
                resource_type: resource_type_of(&segments),
                path: lower.clone(),
            },
            _ => Scope::Resource {
                subscription: None,
                group: None,
                resource_type: resource_type_of(&segments),
                path: lower.clone(),
            },
        }
    }

    /// Subscription, management group or root: what makes Owner there admin-equivalent.
    pub(crate) fn is_subscription_or_wider(&self) -> bool {
        matches!(
            self,
            Scope::Root | Scope::ManagementGroup(_) | Scope::Subscription(_)
        )
    }

    /// 1.0 subscription, management group or root; 0.5 a resource group; 0.25 a single resource.
    pub(crate) fn reach(&self) -> f64 {
        match self {
            Scope::Root | Scope::ManagementGroup(_) | Scope::Subscription(_) => 1.0,
            Scope::ResourceGroup { .. } => 0.5,
            Scope::Resource { .. } => 0.25,
        }
    }

    pub(crate) fn subscription(&self) -> Option<&str> {
        match self {
            Scope::Subscription(s)
            | Scope::ResourceGroup {
                subscription: s, ..
            } => Some(s),
            Scope::Resource { subscription, .. } => subscription.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn management_group(&self) -> Option<&str> {
        match self {
            Scope::ManagementGroup(id) => Some(id),
            _ => None,
        }
    }

    /// `(subscription, resource group)` the scope lies in, if it lies in one.
    pub(crate) fn resource_group(&self) -> Option<(&str, &str)> {
        match self {
            Scope::ResourceGroup {
                subscription,
                group,
            } => Some((subscription, group)),
            Scope::Resource {
                subscription: Some(s),
                group: Some(g),
                ..
            } => Some((s, g)),
            _ => None,
        }
    }

    /// The last path segment of a resource scope (`…/userAssignedIdentities/<name>` → name).
    pub(crate) fn resource_name(&self) -> Option<&str> {
        match self {
            Scope::Resource { path, .. } => path.rsplit('/').next(),
            _ => None,
        }
    }

    /// The resource type (`microsoft.managedidentity/userassignedidentities`) of a resource scope.
    pub(crate) fn resource_type(&self) -> Option<&str> {
        match self {
            Scope::Resource { resource_type, .. } => Some(resource_type),
            _ => None,
        }
    }

    /// Whether an assignment at `outer` applies at `inner`. Management groups are taken to cover
    /// everything: the exports do not say which subscriptions sit under which group.
    pub(crate) fn covers(outer: &str, inner: &str) -> bool {
        Scope::covers_lowered(
            &Scope::normalise(outer).to_ascii_lowercase(),
            &Scope::normalise(inner).to_ascii_lowercase(),
        )
    }

    /// [`Scope::covers`] for scopes already normalised and lower-cased.
    pub(crate) fn covers_lowered(outer: &str, inner: &str) -> bool {
        outer == "/"
            || outer.starts_with("/providers/microsoft.management/managementgroups/")
            || (inner.starts_with(outer)
                && (inner.len() == outer.len() || inner.as_bytes().get(outer.len()) == Some(&b'/')))
    }
}

/// Namespace and type names after the last `providers` segment: `…/providers/Microsoft.Compute/
/// virtualMachines/vm1/extensions/x` → `microsoft.compute/virtualmachines/extensions`.
fn resource_type_of(segments: &[&str]) -> String {
    let Some(at) = segments.iter().rposition(|s| *s == "providers") else {
        return String::new();
    };
    let rest = &segments[at + 1..];
    let Some(namespace) = rest.first() else {
        return String::new();
    };
    let mut kind = (*namespace).to_string();
    for name in rest.iter().skip(1).step_by(2) {
        kind.push('/');
        kind.push_str(name);
    }
    kind
}
