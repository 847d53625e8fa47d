//! The simulator's state (tasks, employees, faults, counters, the rate limiter) behind one
//! mutex, and the operations on it. Handlers and the control API both go through [`Sim`].

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::config::{RateLimit, SimConfig};
use crate::error::SimError;
use crate::faults::Faults;
use crate::model::{
    Employee, EmployeeEdit, EmployeeSeed, Named, Task, TaskEdit, TaskSeed, TaskSeeded,
};
use crate::stats::Stats;

/// Most tasks or employees one seeding request may create.
pub(crate) const MAX_SEED: u32 = 200_000;

/// The shared simulator: configuration plus state.
pub(crate) struct Sim {
    pub config: SimConfig,
    state: Mutex<State>,
}

pub(crate) struct State {
    pub tasks: BTreeMap<u64, Task>,
    pub employees: BTreeMap<u64, Employee>,
    next_task_id: u64,
    pub faults: Faults,
    pub stats: Stats,
    /// The rate limit in force, and its bucket.
    pub rate_limit: Option<RateLimit>,
    pub limiter: Option<Bucket>,
}

/// One page of a list, with the totals of the pagination envelope.
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub pages: u32,
    pub count: usize,
}

impl Sim {
    pub fn new(config: SimConfig) -> Self {
        let state = State::new(&config);
        Self {
            config,
            state: Mutex::new(state),
        }
    }

    /// The state; a poisoned lock (a handler panicked) is taken over, the data stays usable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Back to the configured start.
    pub fn reset(&self) {
        *self.lock() = State::new(&self.config);
    }

    /// `page` and `per_page` as PeopleForce reads them: pages start at 1, sizes are clamped.
    pub fn paging(&self, page: Option<u32>, per_page: Option<u32>) -> (u32, u32) {
        let per_page = per_page
            .unwrap_or(self.config.default_per_page)
            .clamp(1, self.config.max_per_page);
        (page.unwrap_or(1).max(1), per_page)
    }
}

impl State {
    fn new(config: &SimConfig) -> Self {
        let mut state = Self {
            tasks: BTreeMap::new(),
            employees: BTreeMap::new(),
            next_task_id: 1,
            faults: Faults::default(),
            stats: Stats::default(),
            rate_limit: config.rate_limit,
            limiter: config.rate_limit.map(Bucket::new),
        };
        state.seed_employees(&EmployeeSeed {
            count: config.employees,
        });
        state
    }

    pub fn tasks_page(&self, page: u32, per_page: u32, assignee: Option<u64>) -> Page<Task> {
        let all: Vec<&Task> = self
            .tasks
            .values()
            .filter(|t| assignee.is_none_or(|a| t.assignee_id == Some(a)))
            .collect();
        paginate(&all, page, per_page)
    }

    pub fn employees_page(&self, page: u32, per_page: u32) -> Page<Employee> {
        let all: Vec<&Employee> = self.employees.values().collect();
        paginate(&all, page, per_page)
    }

    /// Creates a task (through the API or seeding).
    pub fn create_task(
        &mut self,
        title: String,
        description: Option<String>,
        due_date: Option<String>,
        assignee_id: Option<u64>,
    ) -> Task {
        let now = Utc::now();
        let id = self.next_task_id;
        self.next_task_id += 1;
        let task = Task {
            id,
            title,
            description,
            due_date,
            assignee_id,
            completed: false,
            completed_at: None,
            creator_id: self.employees.keys().next().copied(),
            related_employee_id: assignee_id,
            created_at: now,
            updated_at: now,
        };
        self.tasks.insert(id, task.clone());
        task
    }

    /// Marks a task completed or not; a no-op leaves `updated_at` alone.
    pub fn set_completed(&mut self, id: u64, completed: bool) -> Result<Task, SimError> {
        let task = self
            .tasks
            .get_mut(&id)
            .ok_or_else(|| SimError::not_found("Task"))?;
        if task.completed != completed {
            let now = Utc::now();
            task.completed = completed;
            task.completed_at = completed.then_some(now);
            task.updated_at = now;
        }
        Ok(task.clone())
    }

    pub fn edit_task(&mut self, id: u64, edit: &TaskEdit) -> Result<Task, SimError> {
        if let Some(completed) = edit.completed {
            self.set_completed(id, completed)?;
        }
        let task = self
            .tasks
            .get_mut(&id)
            .ok_or_else(|| SimError::not_found("Task"))?;
        let before = task.clone();
        if let Some(title) = &edit.title {
            task.title.clone_from(title);
        }
        if let Some(description) = &edit.description {
            task.description.clone_from(description);
        }
        if let Some(due_date) = &edit.due_date {
            task.due_date.clone_from(due_date);
        }
        if let Some(assignee_id) = edit.assignee_id {
            task.assignee_id = assignee_id;
        }
        if *task != before {
            task.updated_at = Utc::now();
        }
        Ok(task.clone())
    }

    pub fn seed_tasks(&mut self, seed: &TaskSeed) -> Result<TaskSeeded, SimError> {
        if seed.count > MAX_SEED {
            return Err(SimError::invalid("count", "is too large"));
        }
        let prefix = seed.title_prefix.as_deref().unwrap_or("Seeded task");
        let employees: Vec<u64> = self.employees.keys().copied().collect();
        let mut ids = Vec::with_capacity(seed.count as usize);
        for n in 1..=seed.count {
            let assignee = seed.assignee_id.or_else(|| {
                (!employees.is_empty()).then(|| employees[(n as usize - 1) % employees.len()])
            });
            let task = self.create_task(
                format!("{prefix} {n}"),
                seed.description.clone(),
                seed.due_date.clone(),
                assignee,
            );
            if seed.completed {
                self.set_completed(task.id, true)?;
            }
            ids.push(task.id);
        }
        Ok(TaskSeeded {
            created: seed.count,
            first_id: ids.first().copied(),
            last_id: ids.last().copied(),
        })
    }

    pub fn delete_task(&mut self, id: u64) -> Result<Task, SimError> {
        self.tasks
            .remove(&id)
            .ok_or_else(|| SimError::not_found("Task"))
    }

    pub fn edit_employee(&mut self, id: u64, edit: &EmployeeEdit) -> Result<Employee, SimError> {
        let employee =
            (self.employees.get_mut(&id)).ok_or_else(|| SimError::not_found("Employee"))?;
        if let Some(email) = &edit.email {
            employee.email.clone_from(email);
            employee.updated_at = Utc::now();
        }
        Ok(employee.clone())
    }

    pub fn seed_employees(&mut self, seed: &EmployeeSeed) {
        let start = self.employees.keys().next_back().copied().unwrap_or(0) + 1;
        let now = Utc::now();
        for id in start..start + u64::from(seed.count.min(MAX_SEED)) {
            let (first, last) = (format!("Person{id}"), "Example".to_owned());
            self.employees.insert(
                id,
                Employee {
                    id,
                    active: true,
                    status: "employed".into(),
                    employee_number: format!("EMP-{id:04}"),
                    full_name: format!("{first} {last}"),
                    email: format!("person{id}@example.com"),
                    first_name: first,
                    last_name: last,
                    personal_email: None,
                    position: Some(Named {
                        id: 1,
                        name: "Engineer".into(),
                    }),
                    department: None,
                    created_at: now,
                    updated_at: now,
                },
            );
        }
    }
}

fn paginate<T: Clone>(all: &[&T], page: u32, per_page: u32) -> Page<T> {
    let count = all.len();
    let pages = count.div_ceil(per_page as usize).max(1);
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let items = all
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|t| (*t).clone())
        .collect();
    Page {
        items,
        page,
        pages: u32::try_from(pages).unwrap_or(u32::MAX),
        count,
    }
}

/// A token bucket refilled continuously.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    per_second: f64,
    burst: f64,
    last: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            tokens: f64::from(limit.burst),
            per_second: f64::from(limit.per_minute) / 60.0,
            burst: f64::from(limit.burst),
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how long until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }

    /// Replaces the limit (`None` turns it off).
    pub fn from_limit(limit: Option<RateLimit>) -> Option<Self> {
        limit.map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once_and_report_the_totals() {
        let items: Vec<u32> = (1..=7).collect();
        let refs: Vec<&u32> = items.iter().collect();
        let first = paginate(&refs, 1, 3);
        assert_eq!(
            (first.items, first.pages, first.count),
            (vec![1, 2, 3], 3, 7)
        );
        assert_eq!(paginate(&refs, 3, 3).items, vec![7]);
        assert!(paginate(&refs, 4, 3).items.is_empty());
        let none: Vec<&u32> = Vec::new();
        assert_eq!(paginate(&none, 1, 3).pages, 1);
    }

    #[test]
    fn the_bucket_refuses_beyond_its_burst_and_refills() {
        let mut bucket = Bucket::new(RateLimit {
            per_minute: 60,
            burst: 2,
        });
        let t0 = Instant::now();
        assert!(bucket.take(t0).is_ok());
        assert!(bucket.take(t0).is_ok());
        let wait = bucket.take(t0).err();
        assert!(
            wait.is_some_and(|w| w <= Duration::from_secs(1)),
            "{wait:?}"
        );
        assert!(bucket.take(t0 + Duration::from_secs(1)).is_ok());
    }
}
