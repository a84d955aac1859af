SELECT
  *
FROM (
  SELECT
    `t11`.`coupon_id`,
    `t4`.`name`,
    `t4`.`discount_type`,
    `t11`.`granted`,
    `t11`.`customers`,
    `t11`.`used`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(CAST(`t11`.`used` AS FLOAT64), NULLIF(`t11`.`granted`, 0)) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `redemption_rate`,
    `t11`.`orders`,
    `t11`.`revenue`,
    `t11`.`discount`
  FROM (
    SELECT
      `t9`.`coupon_id`,
      COUNT(`t9`.`grant_id`) AS `granted`,
      COUNT(DISTINCT `t9`.`customer_id`) AS `customers`,
      SUM(`t9`.`used`) AS `used`,
      COUNT(`t9`.`total`) AS `orders`,
      COALESCE(SUM(`t9`.`total`), 0) AS `revenue`,
      COALESCE(SUM(`t9`.`discount`), 0) AS `discount`
    FROM (
      SELECT
        `t8`.`grant_id`,
        `t8`.`coupon_id`,
        `t8`.`customer_id`,
        `t8`.`code`,
        `t8`.`granted_at`,
        `t8`.`expires_at`,
        `t8`.`used_at`,
        `t8`.`order_id`,
        `t8`.`source`,
        `t8`.`granted_on`,
        `t8`.`used_on`,
        `t8`.`used`,
        `t8`.`used_order`,
        `t6`.`used_order` AS `used_order_right`,
        `t6`.`total`,
        `t6`.`discount`
      FROM (
        SELECT
          `t1`.`grant_id`,
          `t1`.`coupon_id`,
          `t1`.`customer_id`,
          `t1`.`code`,
          `t1`.`granted_at`,
          `t1`.`expires_at`,
          `t1`.`used_at`,
          `t1`.`order_id`,
          `t1`.`source`,
          DATE(TIMESTAMP_ADD(`t1`.`granted_at`, INTERVAL '9' HOUR)) AS `granted_on`,
          DATE(TIMESTAMP_ADD(`t1`.`used_at`, INTERVAL '9' HOUR)) AS `used_on`,
          IF(
            (
              DATE(TIMESTAMP_ADD(`t1`.`used_at`, INTERVAL '9' HOUR)) IS NOT NULL
            )
            AND (
              DATE(TIMESTAMP_ADD(`t1`.`used_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            ),
            1,
            0
          ) AS `used`,
          IF(
            (
              DATE(TIMESTAMP_ADD(`t1`.`used_at`, INTERVAL '9' HOUR)) IS NOT NULL
            )
            AND (
              DATE(TIMESTAMP_ADD(`t1`.`used_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            ),
            `t1`.`order_id`,
            NULL
          ) AS `used_order`
        FROM `coupon_grants` AS `t1`
        WHERE
          DATE(TIMESTAMP_ADD(`t1`.`granted_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      ) AS `t8`
      LEFT OUTER JOIN (
        SELECT
          `t2`.`order_id` AS `used_order`,
          `t2`.`total`,
          `t2`.`discount`
        FROM `orders` AS `t2`
        WHERE
          `t2`.`status` = 'completed' AND `t2`.`customer_id` IS NOT NULL
      ) AS `t6`
        ON `t8`.`used_order` = `t6`.`used_order`
    ) AS `t9`
    GROUP BY
      1
  ) AS `t11`
  LEFT OUTER JOIN (
    SELECT
      `t0`.`coupon_id`,
      `t0`.`name`,
      `t0`.`discount_type`
    FROM `coupons` AS `t0`
  ) AS `t4`
    ON `t11`.`coupon_id` = `t4`.`coupon_id`
) AS `t12`
ORDER BY
  `t12`.`coupon_id` ASC NULLS LAST
