"""em_resource_model: the declarations the resource tables are written in (on a small table of its own)."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resource_model import Output, QueryField, Resource

THING = Resource(
    name="Thing", query_type="Thing", entity_path="things", list_tag="Things", item_tag="Thing",
    return_key="things", key_field="uid",
    fields=(
        QueryField("UID", "uid", "uid", uid_kind="Thing"),
        QueryField("CreationTime", "creation_time", "datetime",
                   options=(("created_after", ">="), ("created_before", "<="))),
        QueryField("Hidden", "hidden", "bool", sortable=False),
    ),
    outputs=(
        Output("uid", "UID"),
        Output("name", "Name"),
        Output("server", link=("Up", "ServerReference"), convert="link_name"),
        Output("size", ("Stats", "Size"), "int"),
    ),
)


def test_declarations_normalise_their_arguments():
    assert THING.field("uid").options == (("uid", "=="),)
    assert THING.outputs[1].source == ("Name",) and THING.outputs[3].source == ("Stats", "Size")
    assert Output("x", "X", fallback="Y").fallback == ("Y",)
    with pytest.raises(KeyError):
        THING.field("nope")


def test_filter_options_sort_choices_and_output_keys_follow_table_order():
    assert [(option, field.name, op) for option, field, op in THING.filter_options()] == [
        ("uid", "uid", "=="), ("created_after", "creation_time", ">="), ("created_before", "creation_time", "<="),
        ("hidden", "hidden", "==")]
    assert THING.sort_choices() == ["uid", "creation_time"]
    assert THING.output_keys() == ["uid", "name", "server", "size"]
    assert THING.format_param == "Entities"
    assert Resource("T", "T", "t", "Ts", "T", "ts", "id", (), (), container="Tasks").format_param is None


def test_project_keeps_the_key_field_and_refuses_unknown_keys():
    projected = THING.project(["size"])
    assert projected.output_keys() == ["uid", "size"] and THING.output_keys() == ["uid", "name", "server", "size"]
    assert projected.fields is THING.fields and not projected.uses_links and THING.uses_links
    assert THING.project(None) is THING and THING.project([]) is THING
    with pytest.raises(ValueError, match="Thing has no output key colour"):
        THING.project(["colour"])
