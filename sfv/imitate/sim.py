"""The physics world: one character on one terrain in pybullet, driven by stable PD.

The only module of the kit that simulates (render/tiny.py also uses pybullet, only as an offscreen
CPU renderer for the ground-truth videos). The character (URDF, PD gains, torque limits,
feet) and the terrain are files referenced by name (`sfv/characters/<name>.yaml`,
`sfv/terrains/<name>.yaml`), so nothing here assumes the humanoid's joint list or a flat plane.
State is read with pybullet's batched calls and returned as numpy arrays in the kit's layout
(bodies in skeleton order, quaternions x, y, z, w).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pybullet

from sfv import rotations
from sfv.assets import pybullet_data_path
from sfv.imitate.kernel import joint_states
from sfv.imitate.terrain import (
    Heightfield,
    TerrainError,
    make_heightfield,
    read_terrain,
)
from sfv.io import quiet_stdio
from sfv.settings.imitate import EnvSettings
from sfv.skeleton import SkeletonError, load_character

GRAVITY = 9.8  # m/s^2, as DeepMimic and its pybullet port


class SimulationError(RuntimeError):
    """The simulator cannot be set up as asked (bad character or terrain file)."""


@lru_cache(maxsize=None)
def load_terrain(name: str):
    """The validated terrain file `sfv/terrains/<name>.yaml` (cached; frozen, so read-only)."""
    try:
        return read_terrain(name)
    except TerrainError as e:
        raise SimulationError(str(e)) from None


def _up_rotation(up_axis: str) -> list[float]:
    """Quaternion turning pybullet's z-up assets so that their up is the character's up axis."""
    return list(pybullet.getQuaternionFromEuler([-np.pi / 2, 0, 0])) if up_axis == "y" else [0, 0, 0, 1]


def _build_plane(client: int, spec, up_axis: str) -> int:
    body = pybullet.loadURDF(
        str(pybullet_data_path() / "plane_implicit.urdf"),
        [0, 0, 0],
        _up_rotation(up_axis),
        useMaximalCoordinates=True,
        physicsClientId=client,
    )
    pybullet.changeDynamics(body, -1, lateralFriction=spec.friction, physicsClientId=client)
    return body


def _field_pose(field: Heightfield, offset: float) -> tuple[list[float], list[float]]:
    """Where pybullet's heightfield body goes: its local x along the field's forward, y along its lateral, z up;
    Bullet centres the grid on the body and its heights on the middle of their range (`offset`)."""
    up = np.eye(3)[field.up]
    rotation = np.stack([field.forward, field.lateral, up], axis=1)  # columns: local axes in the world
    return list(field.centre() + offset * up), _quaternion(rotation)


def _quaternion(m: np.ndarray) -> list[float]:
    """x, y, z, w of a rotation matrix (its trace is > -1 for the rotations used here: about the up axis)."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(m).as_quat().tolist()


#: how far a block reaches under the lowest top (metres): thick enough that nothing falls through it
BLOCK_DEPTH = 1.0


def _blocks_shape(client: int, blocks: np.ndarray) -> int:
    """One compound shape of boxes, rows (u0, u1, v0, v1, top) in the field's frame (x forward, y lateral, z up),
    each from BLOCK_DEPTH under the lowest top up to its own."""
    bottom = float(blocks[:, 4].min()) - BLOCK_DEPTH
    u0, u1, v0, v1, top = blocks.T
    return pybullet.createCollisionShapeArray(
        shapeTypes=[pybullet.GEOM_BOX] * len(blocks),
        halfExtents=np.stack([(u1 - u0) / 2, (v1 - v0) / 2, (top - bottom) / 2], axis=1).tolist(),
        collisionFramePositions=np.stack([(u0 + u1) / 2, (v0 + v1) / 2, (top + bottom) / 2], axis=1).tolist(),
        physicsClientId=client,
    )


class _FieldBody:
    """A pybullet heightfield and the grid it was made from (Bullet keeps the height range of its first data); or,
    for a field of blocks (a scene's levels), one body of boxes."""

    def __init__(self, client: int, field: Heightfield, friction: float):
        self.client, self.field = client, field
        h = field.heights
        self.low, self.high = float(h.min()), float(h.max())
        nv, nu = h.shape
        if field.blocks is not None:
            self.shape_id = _blocks_shape(client, field.blocks)
            pos, rot = self._blocks_pose()
        else:
            self.shape_id = pybullet.createCollisionShape(
                pybullet.GEOM_HEIGHTFIELD,
                meshScale=[field.cell, field.cell_across, 1.0],
                heightfieldData=h.ravel().tolist(),
                numHeightfieldRows=nu,
                numHeightfieldColumns=nv,
                physicsClientId=client,
            )
            pos, rot = _field_pose(field, 0.5 * (self.low + self.high))
        self.body = pybullet.createMultiBody(
            0, self.shape_id, basePosition=pos, baseOrientation=rot, physicsClientId=client
        )
        pybullet.changeDynamics(self.body, -1, lateralFriction=friction, physicsClientId=client)

    def _blocks_pose(self) -> tuple[list[float], list[float]]:
        """The blocks' body: its frame's axes are the field's (forward, lateral, up), its origin the world's moved
        by the episode's shift."""
        f = self.field
        up = np.eye(3)[f.up]
        return list(f.shift * f.forward), _quaternion(np.stack([f.forward, f.lateral, up], axis=1))

    def can_take(self, field: Heightfield) -> bool:
        h = field.heights
        same_grid = (h.shape, field.cell, field.cell_across) == (
            self.field.heights.shape,
            self.field.cell,
            self.field.cell_across,
        )
        if field.blocks is not None or self.field.blocks is not None:  # boxes are not changed in place: the same ones
            both = field.blocks is not None and self.field.blocks is not None
            return same_grid and both and np.array_equal(field.blocks, self.field.blocks)
        return same_grid and float(h.min()) >= self.low and float(h.max()) <= self.high

    def replace(self, field: Heightfield) -> None:
        """New heights in place (cheap), and the body moved to the field's place."""
        if field.heights is not self.field.heights and field.blocks is None:
            nv, nu = field.heights.shape
            pybullet.createCollisionShape(
                pybullet.GEOM_HEIGHTFIELD,
                meshScale=[field.cell, field.cell_across, 1.0],
                heightfieldData=field.heights.ravel().tolist(),
                numHeightfieldRows=nu,
                numHeightfieldColumns=nv,
                replaceHeightfieldIndex=self.shape_id,
                physicsClientId=self.client,
            )
        self.field = field
        self.move()

    def move(self) -> None:
        """Put the body where the field says (after its shift changed)."""
        if self.field.blocks is not None:
            pos, rot = self._blocks_pose()
        else:
            pos, rot = _field_pose(self.field, 0.5 * (self.low + self.high))
        pybullet.resetBasePositionAndOrientation(self.body, pos, rot, physicsClientId=self.client)


@dataclass(slots=True)
class BodyState:
    """Everything the reward and the observation read, for one instant (numpy, world frame)."""

    root_pos: np.ndarray  # (3,)
    root_rot: np.ndarray  # (4,) xyzw
    root_lin_vel: np.ndarray  # (3,)
    root_ang_vel: np.ndarray  # (3,)
    joint_rot: np.ndarray  # (J, 4) local rotation of each movable joint (revolute ones as quaternions)
    joint_vel: np.ndarray  # (J, 3) local angular velocity of each movable joint (revolute: axis * rate)
    body_pos: np.ndarray  # (B, 3) body (URDF link) frame positions, skeleton order
    body_rot: np.ndarray  # (B, 4)
    body_lin_vel: np.ndarray  # (B, 3) velocity of each body's centre of mass
    body_ang_vel: np.ndarray  # (B, 3)
    com_vel: np.ndarray  # (3,) whole-body centre-of-mass velocity

    def take(self, i: int) -> "BodyState":
        """Env i's state from a batch (each field with a leading env axis): views, no copies."""
        return BodyState(*(getattr(self, f)[i] for f in BodyState.__slots__))

    @staticmethod
    def stack(states: list["BodyState"]) -> "BodyState":
        """A batch of one or more states (the inverse of `take`)."""
        return BodyState(*(np.stack([getattr(s, f) for s in states]) for f in BodyState.__slots__))


class Simulation:
    """A DIRECT (or, to watch it, GUI) pybullet world with a terrain and one character tracked by C++ stable PD.

    `settings.physics_hz` sets the Bullet step; each `step(targets)` holds the PD targets for
    physics_hz / control_hz substeps (8 by default, as the DeepMimic port).
    """

    def __init__(
        self,
        character: str = "humanoid",
        settings: EnvSettings = EnvSettings(),
        solver_iterations: int = 10,
        self_collision: bool = True,
        ghost: bool = False,
        heightfield: Heightfield | None = None,
        gui: bool = False,
    ):
        """`heightfield`: where a terrain other than flat lies (the env lays it along its clip's travel); by default
        along +x from the origin. `gui`: pybullet's window instead of DIRECT (needs a display; the same physics)."""
        self.skeleton = load_character(character)  # a file under sfv/characters/: URDF, PD gains, feet
        self.substeps = settings.substeps
        self.physics_hz, self.control_hz = float(settings.physics_hz), float(settings.control_hz)
        self.terrain_spec = load_terrain(settings.terrain)
        self.ground_contacts = list(settings.ground_contacts)
        cfg = self.skeleton.settings
        self.up_axis = self.skeleton.up_axis
        self.up = np.eye(3)["xyz".index(self.up_axis)]

        self.client = pybullet.connect(pybullet.GUI if gui else pybullet.DIRECT)
        if self.client < 0:
            raise SimulationError(
                "pybullet could not open its window (no display?): play without --gui, or set DISPLAY"
            )
        c = self.client
        pybullet.setGravity(*(-GRAVITY * self.up), physicsClientId=c)
        pybullet.setTimeStep(1.0 / self.physics_hz, physicsClientId=c)
        pybullet.setPhysicsEngineParameter(numSolverIterations=solver_iterations, numSubSteps=1, physicsClientId=c)
        self._field_body: _FieldBody | None = None
        if self.terrain_spec.kind == "plane":
            self.terrain = _build_plane(c, self.terrain_spec, self.up_axis)
        else:
            self.set_heightfield(
                heightfield
                if heightfield is not None
                else make_heightfield(self.terrain_spec, np.eye(3)[0], "xyz".index(self.up_axis))
            )

        flags = pybullet.URDF_MAINTAIN_LINK_ORDER
        if cfg.get("inertia") == "file":  # the URDF's moments; by default pybullet derives them from the shapes
            flags |= pybullet.URDF_USE_INERTIA_FROM_FILE
        if self_collision:
            flags |= pybullet.URDF_USE_SELF_COLLISION | pybullet.URDF_USE_SELF_COLLISION_EXCLUDE_ALL_PARENTS
        urdf = self.skeleton.source  # the character file's URDF, resolved where the file says (beside it)
        self.root_height = float(cfg.get("root_height", 1.0))
        with quiet_stdio():  # the URDF loader prints a warning per joint without <axis>
            self.body = pybullet.loadURDF(
                str(urdf),
                list(self.up * self.root_height),
                globalScaling=float(cfg["scale"]),
                flags=flags,
                physicsClientId=c,
            )
            # The ghost: a copy of the character that shows the reference in renders; it never collides.
            self.ghost = (
                pybullet.loadURDF(
                    str(urdf),
                    list(self.up * self.root_height),
                    globalScaling=float(cfg["scale"]),
                    useFixedBase=True,
                    flags=pybullet.URDF_MAINTAIN_LINK_ORDER,
                    physicsClientId=c,
                )
                if ghost
                else None
            )
        # pybullet places a base by its inertial frame (centre of mass, principal axes); the kit's root is the base
        # link's frame. Where the two differ (Atlas's pelvis and the MuJoCo humanoid's torso: 3 cm; a URDF may also
        # turn the axes), states and teleports convert; the humanoid's coincide and skip it.
        inertial = pybullet.getDynamicsInfo(self.body, -1, physicsClientId=c)
        base_com, base_turn = np.asarray(inertial[3], dtype=float), np.asarray(inertial[4], dtype=float)
        self._base_com = base_com if np.abs(base_com).max() > 1e-12 else None
        self._base_turn = base_turn if np.abs(base_turn[:3]).max() > 1e-12 else None
        self._map_links(cfg)
        self._setup_dynamics(cfg)
        if self.ghost is not None:
            self._setup_ghost()

    # --- set-up ---------------------------------------------------------------------------------
    def _map_links(self, cfg: dict) -> None:
        """Match skeleton bodies to pybullet links by name (the base is link -1)."""
        c, sk = self.client, self.skeleton
        link_of = {
            pybullet.getJointInfo(self.body, j, physicsClientId=c)[12].decode(): j
            for j in range(pybullet.getNumJoints(self.body, physicsClientId=c))
        }
        link_of[sk.bodies[0].name] = -1
        missing = [n for n in sk.body_names if n not in link_of]
        if missing:
            raise SimulationError(f"character {sk.name!r}: bodies {missing} are not links of {sk.source}")
        self.links = np.array([link_of[n] for n in sk.body_names])  # skeleton body -> pybullet link
        self.child_links = [int(link) for link in self.links if link >= 0]  # links readable by getLinkStates
        self.joint_links = [link_of[n] for n in sk.joint_names]  # movable joints, pose-vector order
        self.spherical = np.array([b.joint_type == "spherical" for b in sk.joints])
        self.axes = np.array([b.axis for b in sk.joints], dtype=np.float64)
        # where each joint's numbers sit in the flat joint-state vectors pybullet returns
        npos, nvel = np.where(self.spherical, 4, 1), np.where(self.spherical, 3, 1)
        self._position_start = (np.cumsum(npos) - npos).astype(np.int64)
        self._velocity_start = (np.cumsum(nvel) - nvel).astype(np.int64)
        self.masses = np.array(
            [pybullet.getDynamicsInfo(self.body, int(link), physicsClientId=c)[0] for link in self.links]
        )
        self.total_mass = float(self.masses.sum())
        self._mass_fractions = self.masses / self.total_mass
        try:
            self.feet = {link_of[n] for n in cfg.get("feet", [])}
        except KeyError as e:
            raise SkeletonError(f"sfv/characters/{sk.name}.yaml: feet names unknown body {e}") from None
        unknown = [n for n in self.ground_contacts if n not in link_of]
        if unknown:
            raise SimulationError(
                f"ground_contacts (imitate.env or imitate.clips.<clip>) names {unknown}, which are not "
                f"bodies of {sk.name!r}: use names of sfv/characters/{sk.name}.yaml's skeleton "
                f"({', '.join(n for n in link_of if n != sk.bodies[0].name)})"
            )
        # bodies whose touch does not end an episode: the feet and the skill's own (a cartwheel's hands)
        self.allowed_contacts = self.feet | {link_of[n] for n in self.ground_contacts}

    def _setup_dynamics(self, cfg: dict) -> None:
        c, pd = self.client, cfg.get("pd", {})
        missing = [n for n in self.skeleton.joint_names if n not in pd]
        if missing:
            raise SimulationError(f"sfv/characters/{self.skeleton.name}.yaml: pd has no gains for joints {missing}")
        friction = self.terrain_spec.friction
        for link in [-1, *self.child_links]:
            pybullet.changeDynamics(
                self.body, link, lateralFriction=friction, linearDamping=0, angularDamping=0, physicsClientId=c
            )
        self.kp = [float(pd[n]["kp"]) for n in self.skeleton.joint_names]
        self.kd = [float(pd[n]["kd"]) for n in self.skeleton.joint_names]
        self.forces = [
            [float(pd[n]["torque_limit"])] * (3 if s else 1) for n, s in zip(self.skeleton.joint_names, self.spherical)
        ]
        self._zero_vel = [[0.0, 0.0, 0.0] if s else [0.0] for s in self.spherical]
        # Switch off pybullet's default velocity motors: stable PD supplies every joint torque.
        for link, s in zip(self.joint_links, self.spherical):
            pybullet.setJointMotorControlMultiDof(
                self.body,
                link,
                pybullet.POSITION_CONTROL,
                targetPosition=[0, 0, 0, 1] if s else [0],
                positionGain=0,
                velocityGain=1,
                force=[0, 0, 0] if s else [0],
                physicsClientId=c,
            )

    def _setup_ghost(self) -> None:
        c = self.client
        for link in [-1, *self.child_links]:
            pybullet.setCollisionFilterGroupMask(
                self.ghost, link, collisionFilterGroup=0, collisionFilterMask=0, physicsClientId=c
            )
            pybullet.changeVisualShape(self.ghost, link, rgbaColor=[0.35, 0.55, 0.95, 1.0], physicsClientId=c)
            pybullet.changeDynamics(
                self.ghost,
                link,
                activationState=pybullet.ACTIVATION_STATE_SLEEP
                + pybullet.ACTIVATION_STATE_ENABLE_SLEEPING
                + pybullet.ACTIVATION_STATE_DISABLE_WAKEUP,
                physicsClientId=c,
            )

    # --- terrain ----------------------------------------------------------------------------------
    @property
    def heightfield(self) -> Heightfield | None:
        """The ground's grid (None on flat ground)."""
        return self._field_body.field if self._field_body is not None else None

    def set_heightfield(self, field: Heightfield) -> None:
        """Lay this grid as the ground: in place when Bullet can take it (same size, heights within the first
        grid's range), else as a new body."""
        if self.terrain_spec.kind == "plane":
            raise SimulationError(f"terrain {self.terrain_spec.name!r} is flat ground: it has no heightfield")
        if self._field_body is not None and self._field_body.can_take(field):
            self._field_body.replace(field)
            return
        if self._field_body is not None:
            pybullet.removeBody(self._field_body.body, physicsClientId=self.client)
        self._field_body = _FieldBody(self.client, field, self.terrain_spec.friction)
        self.terrain = self._field_body.body

    def shift_heightfield(self, shift: float) -> None:
        """Move the terrain's features `shift` metres along the travel (per-episode randomisation)."""
        self._field_body.field.shift = float(shift)
        self._field_body.move()

    # --- control ----------------------------------------------------------------------------------
    def pd_targets(self, joint_rot: np.ndarray) -> list[list[float]]:
        """PD targets in pybullet's per-joint form from (J, 4) local joint quaternions."""
        joint_rot = np.asarray(joint_rot, dtype=float)
        # revolute: the signed angle about the joint axis
        angles = 2.0 * np.arctan2(np.einsum("ji,ji->j", joint_rot[:, :3], self.axes), joint_rot[:, 3])
        return [q if s else [a] for q, s, a in zip(joint_rot.tolist(), self.spherical.tolist(), angles.tolist())]

    def step(self, targets: list[list[float]]) -> None:
        """Hold PD targets (pybullet form, see `pd_targets`) for one control step.

        pybullet applies a STABLE_PD_CONTROL command for one physics step only, so it is sent
        again before every substep (sent once, the character goes limp after the first substep).
        """
        c, body, links, zero, forces, kp, kd = (
            self.client,
            self.body,
            self.joint_links,
            self._zero_vel,
            self.forces,
            self.kp,
            self.kd,
        )
        control, advance, mode = (
            pybullet.setJointMotorControlMultiDofArray,
            pybullet.stepSimulation,
            pybullet.STABLE_PD_CONTROL,
        )
        for _ in range(self.substeps):
            control(
                body,
                links,
                mode,
                targetPositions=targets,
                targetVelocities=zero,
                forces=forces,
                positionGains=kp,
                velocityGains=kd,
                physicsClientId=c,
            )
            advance(physicsClientId=c)

    # --- state ------------------------------------------------------------------------------------
    def read_raw(self) -> tuple:
        """pybullet's four batched state reads, as it returns them (tuples)."""
        c, b = self.client, self.body
        return (
            pybullet.getBasePositionAndOrientation(b, physicsClientId=c),
            pybullet.getBaseVelocity(b, physicsClientId=c),
            pybullet.getJointStatesMultiDof(b, self.joint_links, physicsClientId=c),
            pybullet.getLinkStates(
                b, self.child_links, computeLinkVelocity=1, computeForwardKinematics=1, physicsClientId=c
            ),
        )

    def read_state(self) -> BodyState:
        """The character's state: the batched reads turned into arrays in the kit's layout."""
        return self.states([self.read_raw()]).take(0)

    def states(self, raws: list[tuple]) -> BodyState:
        """`read_raw` results of several simulations of this character turned into one batch of states (each
        field with a leading env axis): one numpy conversion for all of them."""
        n = len(raws)
        # flat Python lists first: numpy converts one flat list much faster than nested ones
        jp, jv, flat = [], [], []
        for (root_pos, root_rot), (root_lin, root_ang), joints, links in raws:
            for st in joints:  # positions (quaternions, angles) and velocities (3-vectors, rates) in joint order
                jp += st[0]
                jv += st[1]
            # bodies: base first (link -1), then the links in skeleton order; columns: frame pos, frame rot, velocities
            # (a link's linear velocity is its centre of mass's, the base's frame is its centre of mass)
            flat += root_pos
            flat += root_rot
            flat += root_lin
            flat += root_ang
            for st in links:
                flat += st[4]
                flat += st[5]
                flat += st[6]
                flat += st[7]
        joint_rot = np.empty((n, len(self.spherical), 4))
        joint_vel = np.empty((n, len(self.spherical), 3))
        joint_states(
            np.array(jp).reshape(n, -1),
            np.array(jv).reshape(n, -1),
            self.spherical,
            self._position_start,
            self._velocity_start,
            self.axes,
            joint_rot,
            joint_vel,
        )
        rows = np.array(flat).reshape(n, -1, 13)
        root_lin_vel = rows[:, 0, 7:10]
        if self._base_turn is not None:  # pybullet's base turns with its principal axes: back to the root's frame
            rows[:, 0, 3:7] = rotations.multiply(rows[:, 0, 3:7], rotations.conjugate(self._base_turn))
        if self._base_com is not None:  # pybullet's base is its centre of mass: back to the root's frame
            arm = rotations.rotate(rows[:, 0, 3:7], self._base_com)
            rows[:, 0, 0:3] -= arm
            root_lin_vel = root_lin_vel - np.cross(rows[:, 0, 10:13], arm)
        return BodyState(
            root_pos=rows[:, 0, 0:3],
            root_rot=rows[:, 0, 3:7],
            root_lin_vel=root_lin_vel,
            root_ang_vel=rows[:, 0, 10:13],
            joint_rot=joint_rot,
            joint_vel=joint_vel,
            body_pos=rows[:, :, 0:3],
            body_rot=rows[:, :, 3:7],
            body_lin_vel=rows[:, :, 7:10],
            body_ang_vel=rows[:, :, 10:13],
            com_vel=self._mass_fractions @ rows[:, :, 7:10],
        )

    def set_state(
        self, root_pos, root_rot, joint_rot, root_lin_vel=(0, 0, 0), root_ang_vel=(0, 0, 0), joint_vel=None
    ) -> None:
        """Teleport the character (reference state initialisation): pose and velocities."""
        base_pos, base_rot = self._base_pose(root_pos, root_rot)  # the inertial frame, which pybullet places
        if self._base_com is not None:  # the centre of mass moves with the root's turn as well
            arm = base_pos - np.asarray(root_pos, dtype=float)
            root_lin_vel = np.asarray(root_lin_vel, dtype=float) + np.cross(np.asarray(root_ang_vel, dtype=float), arm)
        values = self.pd_targets(np.asarray(joint_rot))
        if joint_vel is None:
            vels = self._zero_vel
        else:
            jv = np.asarray(joint_vel, dtype=float)
            rates = np.einsum("ji,ji->j", jv, self.axes).tolist()  # revolute: the rate about the axis
            vels = [v if s else [r] for v, s, r in zip(jv.tolist(), self.spherical.tolist(), rates)]
        self.write_raw(list(base_pos), list(base_rot), list(root_lin_vel), list(root_ang_vel), values, vels)

    def write_raw(
        self,
        base_pos: list,
        base_rot: list,
        base_lin_vel: list,
        base_ang_vel: list,
        joint_values: list,
        joint_vels: list,
    ) -> None:
        """pybullet's three state writes, in the form it takes them (the inverse of `read_raw`)."""
        c, b = self.client, self.body
        pybullet.resetBasePositionAndOrientation(b, base_pos, base_rot, physicsClientId=c)
        pybullet.resetBaseVelocity(b, base_lin_vel, base_ang_vel, physicsClientId=c)
        pybullet.resetJointStatesMultiDof(
            b, self.joint_links, targetValues=joint_values, targetVelocities=joint_vels, physicsClientId=c
        )

    def _base_pose(self, root_pos, root_rot) -> tuple:
        """The pose pybullet places the base by (its inertial frame), for the root frame's pose."""
        if self._base_com is not None:
            root_pos = np.asarray(root_pos, dtype=float) + rotations.rotate(
                np.asarray(root_rot, dtype=float), self._base_com
            )
        if self._base_turn is not None:
            root_rot = rotations.multiply(np.asarray(root_rot, dtype=float), self._base_turn)
        return root_pos, root_rot

    def fallen(self) -> bool:
        """True when a body other than the feet (and the skill's `ground_contacts`) touches the terrain (DeepMimic's
        early termination)."""
        for p in pybullet.getContactPoints(self.body, self.terrain, physicsClientId=self.client):
            if p[3] not in self.allowed_contacts:
                return True
        return False

    def forbidden_contacts(self) -> list[str]:
        """The bodies touching the terrain that may not (what `fallen` ends an episode for), by skeleton name: what
        ended a fall, for the one reading why a policy did not learn."""
        names = dict(zip(self.links.tolist(), self.skeleton.body_names))
        links = {p[3] for p in pybullet.getContactPoints(self.body, self.terrain, physicsClientId=self.client)}
        return sorted(names.get(link, str(link)) for link in links - self.allowed_contacts)

    # --- rendering --------------------------------------------------------------------------------
    def render(
        self,
        width: int = 640,
        height: int = 384,
        distance: float = 3.5,
        yaw: float = 30.0,
        pitch: float = -12.0,
        target=None,
    ) -> np.ndarray:
        """An RGB frame (H, W, 3) from pybullet's CPU TinyRenderer, camera following the root."""
        c = self.client
        target = list(self.read_root()[0]) if target is None else list(target)
        up_index = "xyz".index(self.up_axis)
        view = pybullet.computeViewMatrixFromYawPitchRoll(target, distance, yaw, pitch, 0, up_index, physicsClientId=c)
        proj = pybullet.computeProjectionMatrixFOV(50, width / height, 0.05, 50, physicsClientId=c)
        _, _, rgba, _, _ = pybullet.getCameraImage(
            width, height, view, proj, shadow=0, renderer=pybullet.ER_TINY_RENDERER, physicsClientId=c
        )
        return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3]

    def render_with_ghost(self, root_pos, root_rot, joint_rot, side: float = 1.0, **camera) -> np.ndarray:
        """Render the simulated character with the ghost showing the given pose `side` metres beside it."""
        pos = self.place_ghost_beside(root_pos, root_rot, joint_rot, side)
        sim_root = self.read_root()[0]
        return self.render(target=list(0.5 * (sim_root + pos)), **camera)

    def place_ghost_beside(self, root_pos, root_rot, joint_rot, side: float = 1.0) -> np.ndarray:
        """Pose the ghost `side` metres to the side of the given root (so the two bodies never overlap); returns
        where its root went."""
        lateral = np.cross(self.up, np.array([1.0, 0, 0]) if self.up_axis != "x" else np.array([0, 1.0, 0]))
        pos = np.asarray(root_pos) + side * lateral
        self.place_ghost(pos, root_rot, joint_rot)
        return pos

    def place_ghost(self, root_pos, root_rot, joint_rot) -> None:
        """Pose the ghost: its root frame (not its centre of mass) at `root_pos`, `root_rot`."""
        if self.ghost is None:
            raise SimulationError("this Simulation was made without a ghost (pass ghost=True)")
        c = self.client
        pybullet.resetBasePositionAndOrientation(
            self.ghost, *map(list, self._base_pose(root_pos, root_rot)), physicsClientId=c
        )
        pybullet.resetJointStatesMultiDof(
            self.ghost, self.joint_links, targetValues=self.pd_targets(joint_rot), physicsClientId=c
        )

    def read_root(self) -> tuple[np.ndarray, np.ndarray]:
        pos, rot = pybullet.getBasePositionAndOrientation(self.body, physicsClientId=self.client)
        return np.array(pos), np.array(rot)

    def close(self) -> None:
        if self.client is not None and pybullet.isConnected(self.client):
            pybullet.disconnect(self.client)
        self.client = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
