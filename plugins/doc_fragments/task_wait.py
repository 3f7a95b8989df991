# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """How long and how often the modules that wait for EM tasks poll (em_module.wait_argument_spec())."""

    DOCUMENTATION = r"""
options:
  wait_timeout:
    description:
      - Seconds to wait with O(wait).
    type: int
    default: 300
  wait_interval:
    description:
      - Seconds between two polls with O(wait).
    type: float
    default: 3
"""
