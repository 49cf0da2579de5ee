//! What a console user may see, gathered once per request: the projects
//! `custody_core::access::console_project` lets them see, and the filters
//! every list, detail, export and photo of the console applies (a scope
//! that does not hold in an export is no scope).

use crate::store::console::ViolationScope;
use crate::store::{Result, Tx};
use custody_core::access::{self, ProjectScope, Viewer};
use custody_core::model::Id;

/// The projects a viewer sees, and how lists are filtered for them.
pub struct Scope {
    pub projects: Vec<ProjectScope>,
    /// Administrators see every record, those of no project too.
    pub everything: bool,
    /// A regulator's division-code prefix (R18).
    pub jurisdiction: Option<String>,
}

impl Scope {
    pub fn of(tx: &mut dyn Tx, viewer: &Viewer, now: i64) -> Result<Scope> {
        let all = tx.project_scopes()?;
        let projects = access::console_projects(viewer, now, &all).into_iter().cloned().collect();
        Ok(Scope {
            projects,
            everything: viewer.is_admin,
            jurisdiction: viewer.jurisdiction_prefix(now).map(str::to_owned),
        })
    }

    /// Whether a record of `project` is in scope.
    pub fn has(&self, project: Option<&str>) -> bool {
        self.everything || project.is_some_and(|p| self.projects.iter().any(|s| s.project.as_str() == p))
    }

    /// The project filter for record lists (`None`: no filter).
    pub fn record_filter(&self) -> Option<Vec<String>> {
        (!self.everything).then(|| self.projects.iter().map(|s| s.project.to_string()).collect())
    }

    /// Which violations are listed.
    pub fn violations(&self) -> ViolationScope {
        if self.everything {
            ViolationScope::All
        } else if let Some(p) = &self.jurisdiction {
            ViolationScope::Jurisdiction(p.clone())
        } else {
            ViolationScope::Projects(self.projects.iter().map(|s| s.project.to_string()).collect())
        }
    }

    pub fn project(&self, id: &Id) -> Option<&ProjectScope> {
        self.projects.iter().find(|s| &s.project == id)
    }
}
