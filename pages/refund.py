"""Placeholder until the refund page lands."""

import streamlit as st

from lib import ui

ui.entry_guard()

st.title("Coming soon")
st.info("This page is being built.")
