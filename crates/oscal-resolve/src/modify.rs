//! Modify: parameter settings and alterations of controls.

use oscal_model::{
    Addition, Alteration, Catalog, CatalogGroup, Control, Link, Modify, Parameter,
    ParameterSetting, Part, Property, Removal,
};

use crate::{Result, Warning};

pub(crate) fn modify(
    catalog: &mut Catalog,
    modify: &Modify,
    name: &str,
    strict: bool,
    warnings: &mut Vec<Warning>,
) -> Result<()> {
    for (index, setting) in modify.set_parameters.iter().flatten().enumerate() {
        let pointer = format!("/profile/modify/set-parameters/{index}");
        let Some(param_id) = setting.param_id.as_deref() else {
            crate::warn(
                warnings,
                strict,
                name,
                &pointer,
                "set-parameters without a param-id".into(),
            )?;
            continue;
        };
        match find_param(catalog, param_id) {
            Some(param) => {
                crate::resolve::materialize(param, name)?;
                set_parameter(param, setting);
            }
            None => {
                let message = format!(
                    "set-parameters names parameter {:?}, which the resolved catalog lacks",
                    param_id
                );
                crate::warn(warnings, strict, name, &pointer, message)?;
            }
        }
    }
    for (index, alter) in modify.alters.iter().flatten().enumerate() {
        let pointer = format!("/profile/modify/alters/{index}");
        match find_control(catalog, &alter.control_id) {
            Some(control) => {
                if let Some(message) = alter_control(control, alter) {
                    crate::warn(warnings, strict, name, &pointer, message)?;
                }
            }
            None => {
                let message = format!(
                    "alters names control {:?}, which the resolved catalog lacks",
                    alter.control_id
                );
                crate::warn(warnings, strict, name, &pointer, message)?;
            }
        }
    }
    Ok(())
}

/// Values, selections, labels and usage replace what the catalog has; props, links,
/// constraints and guidelines are added to it.
fn set_parameter(param: &mut Parameter, setting: &ParameterSetting) {
    if setting.class.is_some() {
        param.class.clone_from(&setting.class);
    }
    if setting.depends_on.is_some() {
        param.depends_on.clone_from(&setting.depends_on);
    }
    if setting.label.is_some() {
        param.label.clone_from(&setting.label);
    }
    if setting.usage.is_some() {
        param.usage.clone_from(&setting.usage);
    }
    if setting.values.is_some() {
        param.values.clone_from(&setting.values);
        param.select = None;
    }
    if setting.select.is_some() {
        param.select.clone_from(&setting.select);
        param.values = None;
    }
    append(&mut param.props, &setting.props);
    append(&mut param.links, &setting.links);
    append(&mut param.constraints, &setting.constraints);
    append(&mut param.guidelines, &setting.guidelines);
}

fn append<T: Clone>(target: &mut Option<Vec<T>>, extra: &Option<Vec<T>>) {
    if let Some(extra) = extra {
        target
            .get_or_insert_with(Vec::new)
            .extend(extra.iter().cloned());
    }
}

fn find_param<'c>(catalog: &'c mut Catalog, id: &str) -> Option<&'c mut Parameter> {
    fn in_controls<'c>(controls: &'c mut [Control], id: &str) -> Option<&'c mut Parameter> {
        for control in controls {
            if let Some(found) = control
                .params
                .iter_mut()
                .flatten()
                .find(|p| p.id.as_deref() == Some(id))
            {
                return Some(found);
            }
            if let Some(found) = in_controls(control.controls.as_deref_mut().unwrap_or(&mut []), id)
            {
                return Some(found);
            }
        }
        None
    }
    fn in_groups<'c>(groups: &'c mut [CatalogGroup], id: &str) -> Option<&'c mut Parameter> {
        for group in groups {
            if let Some(found) = group
                .params
                .iter_mut()
                .flatten()
                .find(|p| p.id.as_deref() == Some(id))
            {
                return Some(found);
            }
            if let Some(found) = in_controls(group.controls.as_deref_mut().unwrap_or(&mut []), id) {
                return Some(found);
            }
            if let Some(found) = in_groups(group.groups.as_deref_mut().unwrap_or(&mut []), id) {
                return Some(found);
            }
        }
        None
    }
    // A control's own parameter comes first: the catalog level holds loose parameters, and
    // one import's loose copy of a parameter may be another import's control parameter.
    if let Some(found) = in_controls(catalog.controls.as_deref_mut().unwrap_or(&mut []), id) {
        return Some(found);
    }
    if let Some(found) = in_groups(catalog.groups.as_deref_mut().unwrap_or(&mut []), id) {
        return Some(found);
    }
    catalog
        .params
        .iter_mut()
        .flatten()
        .find(|p| p.id.as_deref() == Some(id))
}

pub(crate) fn find_control<'c>(catalog: &'c mut Catalog, id: &str) -> Option<&'c mut Control> {
    fn in_controls<'c>(controls: &'c mut [Control], id: &str) -> Option<&'c mut Control> {
        for control in controls {
            if control.id == id {
                return Some(control);
            }
            if let Some(found) = in_controls(control.controls.as_deref_mut().unwrap_or(&mut []), id)
            {
                return Some(found);
            }
        }
        None
    }
    fn in_groups<'c>(groups: &'c mut [CatalogGroup], id: &str) -> Option<&'c mut Control> {
        for group in groups {
            if let Some(found) = in_controls(group.controls.as_deref_mut().unwrap_or(&mut []), id) {
                return Some(found);
            }
            if let Some(found) = in_groups(group.groups.as_deref_mut().unwrap_or(&mut []), id) {
                return Some(found);
            }
        }
        None
    }
    if let Some(found) = in_controls(catalog.controls.as_deref_mut().unwrap_or(&mut []), id) {
        return Some(found);
    }
    in_groups(catalog.groups.as_deref_mut().unwrap_or(&mut []), id)
}

/// Applies an alteration to a control; returns a warning when an addition names an item the
/// control lacks.
fn alter_control(control: &mut Control, alter: &Alteration) -> Option<String> {
    for removal in alter.removes.iter().flatten() {
        remove(control, removal);
    }
    let mut missing = None;
    for addition in alter.adds.iter().flatten() {
        if !add(control, addition) {
            missing = Some(format!(
                "adds names {:?}, which control {:?} does not contain",
                addition.by_id.as_deref().unwrap_or(""),
                control.id
            ));
        }
    }
    missing
}

fn matches_removal(
    removal: &Removal,
    kind: &str,
    name: Option<&str>,
    class: Option<&str>,
    id: Option<&str>,
    ns: Option<&str>,
) -> bool {
    let criteria = [
        (removal.by_item_name.as_deref(), Some(kind)),
        (removal.by_name.as_deref(), name),
        (removal.by_class.as_deref(), class),
        (removal.by_id.as_deref(), id),
        (removal.by_ns.as_deref(), ns),
    ];
    criteria.iter().any(|(wanted, _)| wanted.is_some())
        && criteria
            .iter()
            .all(|(wanted, have)| wanted.is_none() || wanted == have)
}

fn remove(control: &mut Control, removal: &Removal) {
    if let Some(params) = &mut control.params {
        params.retain(|p| {
            !matches_removal(
                removal,
                "param",
                None,
                p.class.as_deref(),
                p.id.as_deref(),
                None,
            )
        });
    }
    remove_props_links(&mut control.props, &mut control.links, removal);
    remove_parts(&mut control.parts, removal);
    tidy(&mut control.params);
    tidy(&mut control.parts);
}

/// Props and parts without `ns` are in the OSCAL namespace.
const OSCAL_NS: &str = "http://csrc.nist.gov/ns/oscal";

fn remove_props_links(
    props: &mut Option<Vec<Property>>,
    links: &mut Option<Vec<Link>>,
    removal: &Removal,
) {
    if let Some(list) = props {
        list.retain(|p| {
            !matches_removal(
                removal,
                "prop",
                Some(&p.name),
                p.class.as_deref(),
                p.uuid.as_deref(),
                Some(p.ns.as_deref().unwrap_or(OSCAL_NS)),
            )
        });
    }
    if let Some(list) = links {
        list.retain(|l| !matches_removal(removal, "link", l.rel.as_deref(), None, None, None));
    }
    tidy(props);
    tidy(links);
}

fn remove_parts(parts: &mut Option<Vec<Part>>, removal: &Removal) {
    if let Some(list) = parts {
        list.retain(|p| {
            !matches_removal(
                removal,
                "part",
                Some(&p.name),
                p.class.as_deref(),
                p.id.as_deref(),
                Some(p.ns.as_deref().unwrap_or(OSCAL_NS)),
            )
        });
        for part in list.iter_mut() {
            remove_props_links(&mut part.props, &mut part.links, removal);
            remove_parts(&mut part.parts, removal);
        }
    }
    tidy(parts);
}

fn tidy<T>(list: &mut Option<Vec<T>>) {
    if list.as_ref().is_some_and(Vec::is_empty) {
        *list = None;
    }
}

fn insert_items<T: Clone>(target: &mut Option<Vec<T>>, items: &Option<Vec<T>>, at_start: bool) {
    let Some(items) = items else { return };
    let list = target.get_or_insert_with(Vec::new);
    if at_start {
        list.splice(0..0, items.iter().cloned());
    } else {
        list.extend(items.iter().cloned());
    }
}

/// Applies an addition; false when its `by-id` names nothing in the control.
fn add(control: &mut Control, addition: &Addition) -> bool {
    let position = addition.position.as_deref().unwrap_or("ending");
    let at_start = matches!(position, "starting" | "before");
    match addition.by_id.as_deref() {
        None => {
            add_to_control(control, addition, at_start);
            true
        }
        Some(id) if id == control.id => {
            add_to_control(control, addition, at_start);
            true
        }
        Some(id) => {
            if matches!(position, "before" | "after") {
                // Siblings of the target: parts next to a part, params next to a param.
                if let Some(params) = &mut control.params
                    && let Some(index) = params.iter().position(|p| p.id.as_deref() == Some(id))
                {
                    let at = if position == "before" {
                        index
                    } else {
                        index + 1
                    };
                    params.splice(at..at, addition.params.iter().flatten().cloned());
                    return true;
                }
                return add_next_to_part(&mut control.parts, id, addition, position == "before");
            }
            if let Some(param) = control
                .params
                .iter_mut()
                .flatten()
                .find(|p| p.id.as_deref() == Some(id))
            {
                insert_items(&mut param.props, &addition.props, at_start);
                insert_items(&mut param.links, &addition.links, at_start);
                return true;
            }
            add_into_part(&mut control.parts, id, addition, at_start)
        }
    }
}

fn add_to_control(control: &mut Control, addition: &Addition, at_start: bool) {
    if let Some(title) = &addition.title {
        control.title.clone_from(title);
    }
    insert_items(&mut control.params, &addition.params, at_start);
    insert_items(&mut control.props, &addition.props, at_start);
    insert_items(&mut control.links, &addition.links, at_start);
    insert_items(&mut control.parts, &addition.parts, at_start);
}

fn add_into_part(
    parts: &mut Option<Vec<Part>>,
    id: &str,
    addition: &Addition,
    at_start: bool,
) -> bool {
    for part in parts.iter_mut().flatten() {
        if part.id.as_deref() == Some(id) {
            insert_items(&mut part.props, &addition.props, at_start);
            insert_items(&mut part.links, &addition.links, at_start);
            insert_items(&mut part.parts, &addition.parts, at_start);
            return true;
        }
        if add_into_part(&mut part.parts, id, addition, at_start) {
            return true;
        }
    }
    false
}

fn add_next_to_part(
    parts: &mut Option<Vec<Part>>,
    id: &str,
    addition: &Addition,
    before: bool,
) -> bool {
    let Some(list) = parts else { return false };
    if let Some(index) = list.iter().position(|p| p.id.as_deref() == Some(id)) {
        let at = if before { index } else { index + 1 };
        list.splice(at..at, addition.parts.iter().flatten().cloned());
        return true;
    }
    list.iter_mut()
        .any(|part| add_next_to_part(&mut part.parts, id, addition, before))
}
